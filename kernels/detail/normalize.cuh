// Device side of the L2 normalization (contract in normalize.h). One warp
// per row: a row of 512 floats is 2 KiB, 4 float4 loads per lane, so a warp
// keeps several loads in flight and the reduction is one shuffle tree.
// Instantiated only in normalize.cu.
#ifndef CANDOR_KERNELS_DETAIL_NORMALIZE_CUH_
#define CANDOR_KERNELS_DETAIL_NORMALIZE_CUH_

#include <cuda_fp16.h>

#include <cstdint>

#include "kernels/normalize.h"

namespace candor::kernels::detail {

constexpr int kWarpSize = 32;

__device__ inline void StoreScaled(float* out, float v) { *out = v; }
__device__ inline void StoreScaled(__half* out, float v) {
  *out = __float2half_rn(v);
}

// Four consecutive outputs; out + 4 * i is 16-byte (float) or 8-byte (half)
// aligned when the caller chose the vectorized path.
__device__ inline void Store4(float* out, float a, float b, float c, float d) {
  *reinterpret_cast<float4*>(out) = make_float4(a, b, c, d);
}
__device__ inline void Store4(__half* out, float a, float b, float c, float d) {
  __half2 lo = __halves2half2(__float2half_rn(a), __float2half_rn(b));
  __half2 hi = __halves2half2(__float2half_rn(c), __float2half_rn(d));
  uint2 bits;
  bits.x = *reinterpret_cast<uint32_t*>(&lo);
  bits.y = *reinterpret_cast<uint32_t*>(&hi);
  *reinterpret_cast<uint2*>(out) = bits;
}

template <typename OutT>
__global__ void L2NormalizeRowsKernel(const float* in, int64_t rows,
                                      int64_t dim, OutT* out,
                                      RowStatus* row_status, bool vectorized) {
  const int64_t row =
      (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarpSize;
  const int lane = threadIdx.x % kWarpSize;
  if (row >= rows) return;
  const float* x = in + row * dim;
  OutT* y = out + row * dim;

  // Double accumulation, as the reference: the squares of float inputs never
  // underflow in double, so "zero row" means exactly what it means there.
  double sum_sq = 0.0;
  bool finite = true;
  if (vectorized) {
    const int64_t dim4 = dim / 4;
    for (int64_t i = lane; i < dim4; i += kWarpSize) {
      const float4 f = reinterpret_cast<const float4*>(x)[i];
      finite = finite && isfinite(f.x) && isfinite(f.y) && isfinite(f.z) &&
               isfinite(f.w);
      sum_sq += static_cast<double>(f.x) * f.x +
                static_cast<double>(f.y) * f.y +
                static_cast<double>(f.z) * f.z + static_cast<double>(f.w) * f.w;
    }
  } else {
    for (int64_t i = lane; i < dim; i += kWarpSize) {
      finite = finite && isfinite(x[i]);
      sum_sq += static_cast<double>(x[i]) * x[i];
    }
  }
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    sum_sq += __shfl_xor_sync(0xffffffffu, sum_sq, offset);
  }
  finite = __all_sync(0xffffffffu, finite);

  RowStatus status = RowStatus::kOk;
  if (!finite) {
    status = RowStatus::kNonFinite;
  } else if (!(sum_sq > 0.0) || !isfinite(sum_sq)) {
    status = RowStatus::kZero;
  }
  if (lane == 0) row_status[row] = status;
  const double inv_norm = status == RowStatus::kOk ? 1.0 / sqrt(sum_sq) : 0.0;
  // Bad rows: inv_norm 0 would turn a NaN into NaN, so write literal zeros.
  const bool ok = status == RowStatus::kOk;
  if (vectorized) {
    const int64_t dim4 = dim / 4;
    for (int64_t i = lane; i < dim4; i += kWarpSize) {
      const float4 f = reinterpret_cast<const float4*>(x)[i];
      Store4(y + 4 * i, ok ? static_cast<float>(f.x * inv_norm) : 0.0f,
             ok ? static_cast<float>(f.y * inv_norm) : 0.0f,
             ok ? static_cast<float>(f.z * inv_norm) : 0.0f,
             ok ? static_cast<float>(f.w * inv_norm) : 0.0f);
    }
  } else {
    for (int64_t i = lane; i < dim; i += kWarpSize) {
      StoreScaled(y + i, ok ? static_cast<float>(x[i] * inv_norm) : 0.0f);
    }
  }
}

}  // namespace candor::kernels::detail

#endif  // CANDOR_KERNELS_DETAIL_NORMALIZE_CUH_
