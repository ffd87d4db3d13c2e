// fp32 -> fp16 conversion kernel (contract in half_convert.h).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "kernels/cuda_check.h"
#include "kernels/half_convert_device.h"

namespace candor::kernels {
namespace {

constexpr int kThreadsPerBlock = 256;
// Grid-stride: a few waves of blocks saturate HBM; more only add overhead.
constexpr int64_t kMaxBlocks = 4096;

// Vector path: one float4 in, four halves (8 bytes) out per step; the scalar
// tail (or the whole array when unaligned) follows.
__global__ void FloatToHalfKernel(const float* __restrict__ in, int64_t n,
                                  __half* __restrict__ out, bool vectorized) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first =
      static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vectorized) {
    const int64_t n4 = n / 4;
    for (int64_t i = first; i < n4; i += stride) {
      const float4 f = reinterpret_cast<const float4*>(in)[i];
      __half2 lo = __floats2half2_rn(f.x, f.y);
      __half2 hi = __floats2half2_rn(f.z, f.w);
      uint2 bits;
      bits.x = *reinterpret_cast<uint32_t*>(&lo);
      bits.y = *reinterpret_cast<uint32_t*>(&hi);
      reinterpret_cast<uint2*>(out)[i] = bits;
    }
    done = n4 * 4;
  }
  for (int64_t i = done + first; i < n; i += stride) {
    out[i] = __float2half_rn(in[i]);
  }
}

}  // namespace

absl::Status FloatToHalfDevice(const float* in, int64_t n, uint16_t* out,
                               void* stream) {
  if (n < 0) {
    return absl::InvalidArgumentError(absl::StrCat("negative count ", n));
  }
  if (n == 0) return absl::OkStatus();
  const bool vectorized = reinterpret_cast<uintptr_t>(in) % 16 == 0 &&
                          reinterpret_cast<uintptr_t>(out) % 8 == 0;
  const int64_t work = vectorized ? (n + 3) / 4 : n;
  const int64_t blocks =
      std::min(kMaxBlocks, (work + kThreadsPerBlock - 1) / kThreadsPerBlock);
  FloatToHalfKernel<<<static_cast<unsigned>(blocks), kThreadsPerBlock, 0,
                      static_cast<cudaStream_t>(stream)>>>(
      in, n, reinterpret_cast<__half*>(out), vectorized);
  CUDA_RETURN_IF_LAUNCH_FAILED();
  return absl::OkStatus();
}

}  // namespace candor::kernels
