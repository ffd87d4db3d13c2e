// Launchers of the L2-normalize kernel; its templates are instantiated here.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "kernels/cuda_check.h"
#include "kernels/detail/normalize.cuh"
#include "kernels/normalize_device.h"

namespace candor::kernels {
namespace {

// 8 warps (rows) per block: enough warps per SM to hide load latency
// without making the last block of a small batch mostly idle.
constexpr int kThreadsPerBlock = 256;
constexpr int kRowsPerBlock = kThreadsPerBlock / detail::kWarpSize;

bool Aligned(const void* ptr, uintptr_t bytes) {
  return (reinterpret_cast<uintptr_t>(ptr) % bytes) == 0;
}

template <typename OutT>
absl::Status Launch(const float* in, int64_t rows, int64_t dim, OutT* out,
                    RowStatus* row_status, void* stream) {
  if (rows < 0 || dim < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad normalize shape: rows ", rows, ", dim ", dim));
  }
  if (rows == 0) return absl::OkStatus();
  const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  if (blocks > (int64_t{1} << 31) - 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many rows for one launch: ", rows));
  }
  // Vector path: every row starts 16-byte aligned for the input and 4
  // outputs stay within one aligned store.
  const bool vectorized =
      dim % 4 == 0 && Aligned(in, 16) && Aligned(out, 4 * sizeof(OutT));
  detail::L2NormalizeRowsKernel<OutT>
      <<<static_cast<unsigned>(blocks), kThreadsPerBlock, 0,
         static_cast<cudaStream_t>(stream)>>>(in, rows, dim, out, row_status,
                                              vectorized);
  CUDA_RETURN_IF_LAUNCH_FAILED();
  return absl::OkStatus();
}

}  // namespace

absl::Status L2NormalizeRowsDevice(const float* in, int64_t rows, int64_t dim,
                                   float* out, RowStatus* row_status,
                                   void* stream) {
  return Launch<float>(in, rows, dim, out, row_status, stream);
}

absl::Status L2NormalizeRowsToHalfDevice(const float* in, int64_t rows,
                                         int64_t dim, uint16_t* out,
                                         RowStatus* row_status, void* stream) {
  static_assert(sizeof(__half) == sizeof(uint16_t), "binary16 is 2 bytes");
  return Launch<__half>(in, rows, dim, reinterpret_cast<__half*>(out),
                        row_status, stream);
}

}  // namespace candor::kernels
