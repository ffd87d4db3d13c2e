// fp32 -> fp16 conversion on the device (contract in half_convert.h); plain
// C++ declarations, defined in half_convert.cu (CANDOR_CUDA builds only).
#ifndef CANDOR_KERNELS_HALF_CONVERT_DEVICE_H_
#define CANDOR_KERNELS_HALF_CONVERT_DEVICE_H_

#include <cstdint>

#include "absl/status/status.h"

namespace candor::kernels {

// in: n floats, out: n halves, both device memory, not overlapping. stream:
// a cudaStream_t (nullptr = legacy default stream); enqueues only.
// Grid-stride loop with 16-byte loads when both pointers allow it.
absl::Status FloatToHalfDevice(const float* in, int64_t n, uint16_t* out,
                               void* stream);

}  // namespace candor::kernels

#endif  // CANDOR_KERNELS_HALF_CONVERT_DEVICE_H_
