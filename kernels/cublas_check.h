// cuBLAS errors as absl::Status (see cuda_check.h for the CUDA runtime).
#ifndef CANDOR_KERNELS_CUBLAS_CHECK_H_
#define CANDOR_KERNELS_CUBLAS_CHECK_H_

#include <cublas_v2.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace candor::kernels {

inline absl::Status CublasErrorToStatus(cublasStatus_t status, const char* expr,
                                        const char* file, int line) {
  const std::string message =
      absl::StrCat(expr, " failed: ", cublasGetStatusName(status), " (",
                   cublasGetStatusString(status), ") at ", file, ":", line);
  switch (status) {
    case CUBLAS_STATUS_ALLOC_FAILED:
      return absl::ResourceExhaustedError(message);
    case CUBLAS_STATUS_NOT_INITIALIZED:
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return absl::UnavailableError(message);
    case CUBLAS_STATUS_INVALID_VALUE:
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace candor::kernels

#define CUBLAS_RETURN_IF_ERROR(expr)                         \
  do {                                                       \
    const cublasStatus_t candor_cublas_status_ = (expr);     \
    if (candor_cublas_status_ != CUBLAS_STATUS_SUCCESS) {    \
      return ::candor::kernels::CublasErrorToStatus( \
          candor_cublas_status_, #expr, __FILE__, __LINE__); \
    }                                                        \
  } while (false)

#endif  // CANDOR_KERNELS_CUBLAS_CHECK_H_
