// CUDA and cuBLAS errors as absl::Status, never an abort: one failed
// cudaMalloc must fail one request, not the server. For candor's CUDA
// targets (kernels, GPU backend, GPU tests, benchmark); it includes the CUDA
// runtime headers, so plain-C++ callers never see it.
#ifndef CANDOR_KERNELS_CUDA_CHECK_H_
#define CANDOR_KERNELS_CUDA_CHECK_H_

#include <cuda_runtime_api.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace candor::kernels {

// Maps a CUDA error to the most specific status code: out of device memory
// is ResourceExhausted (the caller may retry smaller), a missing device or
// driver is Unavailable, anything else Internal. The message names the
// failing expression and where it was written.
inline absl::Status CudaErrorToStatus(cudaError_t error, const char* expr,
                                      const char* file, int line) {
  const std::string message =
      absl::StrCat(expr, " failed: ", cudaGetErrorName(error), " (",
                   cudaGetErrorString(error), ") at ", file, ":", line);
  switch (error) {
    case cudaErrorMemoryAllocation:
      return absl::ResourceExhaustedError(message);
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInvalidDevice:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace candor::kernels

// Returns from the enclosing function (absl::Status or absl::StatusOr) when
// the CUDA runtime call `expr` fails.
#define CUDA_RETURN_IF_ERROR(expr)                         \
  do {                                                     \
    const cudaError_t candor_cuda_error_ = (expr);         \
    if (candor_cuda_error_ != cudaSuccess) {               \
      return ::candor::kernels::CudaErrorToStatus( \
          candor_cuda_error_, #expr, __FILE__, __LINE__);  \
    }                                                      \
  } while (false)

// After a kernel launch: reports launch-configuration errors (and any
// earlier asynchronous error) as a Status.
#define CUDA_RETURN_IF_LAUNCH_FAILED() CUDA_RETURN_IF_ERROR(cudaGetLastError())

#endif  // CANDOR_KERNELS_CUDA_CHECK_H_
