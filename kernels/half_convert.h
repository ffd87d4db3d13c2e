// float32 -> float16 conversion for gallery storage: the plain C++ API any
// compiler reads. Half values travel as their IEEE binary16 bit patterns in
// uint16_t so that this header needs no CUDA type.
//
// Contract (shared by the CPU reference and the CUDA kernel): each value is
// rounded to the nearest binary16, ties to even (`__float2half_rn`); values
// beyond the half range become +-Inf, NaN stays NaN. Gallery rows are
// L2-normalized, so their components lie in [-1, 1] where the relative
// rounding error is at most 2^-11.
#ifndef CANDOR_KERNELS_HALF_CONVERT_H_
#define CANDOR_KERNELS_HALF_CONVERT_H_

#include <cstdint>

namespace candor::kernels {

// CPU reference. `in` (n floats) and `out` (n halves) are host memory and
// must not overlap.
void FloatToHalfReference(const float* in, int64_t n, uint16_t* out);

// Exact widening of one binary16 bit pattern to float (every half is a
// float), for tests and for reading device results back.
float HalfToFloat(uint16_t half_bits);

}  // namespace candor::kernels

#endif  // CANDOR_KERNELS_HALF_CONVERT_H_
