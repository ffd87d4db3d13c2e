// Device generation of synthetic unit rows (synthetic_rows.h).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "bench/gpu/synthetic_rows.h"
#include "kernels/cuda_check.h"
#include "kernels/cuda_raii.h"
#include "kernels/normalize.h"
#include "kernels/normalize_device.h"

namespace candor::bench {
namespace {

// SplitMix64's finalizer: a well-mixed 64-bit hash of a counter, enough for
// benchmark data (not for statistics).
__device__ inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

__global__ void FillKernel(float* out, int64_t count, uint64_t seed,
                           int64_t first_element) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       i < count; i += stride) {
    const uint64_t h =
        Mix(seed ^ Mix(static_cast<uint64_t>(first_element + i)));
    // Top 24 bits -> [0, 1) exactly representable, then [-1, 1).
    out[i] = static_cast<float>(h >> 40) * (2.0f / 16777216.0f) - 1.0f;
  }
}

}  // namespace

absl::Status GenerateUnitRowsDevice(float* rows_out, int64_t rows, int dim,
                                    uint64_t seed, int64_t first_row,
                                    void* stream) {
  if (rows < 0 || dim < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad shape ", rows, " x ", dim));
  }
  if (rows == 0) return absl::OkStatus();
  const int64_t count = rows * dim;
  const int threads = 256;
  const int64_t blocks =
      std::min<int64_t>(8192, (count + threads - 1) / threads);
  FillKernel<<<static_cast<unsigned>(blocks), threads, 0,
               static_cast<cudaStream_t>(stream)>>>(rows_out, count, seed,
                                                    first_row * dim);
  CUDA_RETURN_IF_LAUNCH_FAILED();
  // Row status is needed by the kernel's contract but cannot be bad here
  // (a uniform row of 512 values is never all zero).
  auto status =
      kernels::DeviceBuffer<kernels::RowStatus>::Allocate(rows);
  if (!status.ok()) return status.status();
  if (absl::Status s = kernels::L2NormalizeRowsDevice(
          rows_out, rows, dim, rows_out, status->data(), stream);
      !s.ok()) {
    return s;
  }
  // The status buffer is freed on return: finish using it first.
  CUDA_RETURN_IF_ERROR(
      cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
  return absl::OkStatus();
}

}  // namespace candor::bench
