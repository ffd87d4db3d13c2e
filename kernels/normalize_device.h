// L2 normalization of a probe batch on the device: plain C++ declarations
// (no CUDA types); defined in normalize.cu, built only with CANDOR_CUDA.
//
// Same contract as L2NormalizeRowsReference (normalize.h): the norm is
// accumulated in double, bad rows are reported per row and zeroed. The fp16
// variant rounds the normalized float to half with __float2half_rn, i.e.
// equals FloatToHalfReference(L2NormalizeRowsReference(x)).
#ifndef CANDOR_KERNELS_NORMALIZE_DEVICE_H_
#define CANDOR_KERNELS_NORMALIZE_DEVICE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "kernels/normalize.h"

namespace candor::kernels {

// in: rows x dim float32, device memory, row-major. out: rows x dim, device
// memory; may alias `in` for the float32 variant (each warp reads its row
// completely before writing it). row_status: rows entries, device memory.
// stream: a cudaStream_t (nullptr = the legacy default stream); the call
// only enqueues work, the caller synchronizes before reading results.
// One warp per row, 16-byte loads when dim % 4 == 0 and the pointers are
// 16-byte aligned. Errors: InvalidArgument for negative sizes; launch errors
// as Status.
absl::Status L2NormalizeRowsDevice(const float* in, int64_t rows, int64_t dim,
                                   float* out, RowStatus* row_status,
                                   void* stream);

// As above with float16 output (binary16 bit patterns, see half_convert.h);
// `out` must not alias `in`.
absl::Status L2NormalizeRowsToHalfDevice(const float* in, int64_t rows,
                                         int64_t dim, uint16_t* out,
                                         RowStatus* row_status, void* stream);

}  // namespace candor::kernels

#endif  // CANDOR_KERNELS_NORMALIZE_DEVICE_H_
