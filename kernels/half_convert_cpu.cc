// CPU reference of the fp32 -> fp16 conversion (contract in half_convert.h).
//
// No hand-written bit twiddling: where the CUDA headers are available (every
// build machine has the toolkit, CUDA on or off) the conversion is CUDA's own
// host-callable `__float2half_rn` from cuda_fp16.h, i.e. the very routine the
// device kernel uses. Without the toolkit it falls back to the compiler's
// IEEE binary16 type `_Float16` (GCC >= 12 and Clang on x86-64), whose
// conversion from float is also round-to-nearest-even.
#include <cstring>

#include "kernels/half_convert.h"

#if defined(CANDOR_KERNELS_HAVE_CUDA_FP16)
#include <cuda_fp16.h>
#endif

namespace candor::kernels {

#if defined(CANDOR_KERNELS_HAVE_CUDA_FP16)

void FloatToHalfReference(const float* in, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    // __half_raw exposes the bit pattern without type punning.
    const __half_raw raw = static_cast<__half_raw>(__float2half_rn(in[i]));
    out[i] = raw.x;
  }
}

float HalfToFloat(uint16_t half_bits) {
  __half_raw raw;
  raw.x = half_bits;
  return __half2float(__half(raw));
}

#else

static_assert(sizeof(_Float16) == sizeof(uint16_t), "binary16 is 2 bytes");

void FloatToHalfReference(const float* in, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    const _Float16 h = static_cast<_Float16>(in[i]);
    std::memcpy(&out[i], &h, sizeof(uint16_t));
  }
}

float HalfToFloat(uint16_t half_bits) {
  _Float16 h;
  std::memcpy(&h, &half_bits, sizeof(uint16_t));
  return static_cast<float>(h);
}

#endif

}  // namespace candor::kernels
