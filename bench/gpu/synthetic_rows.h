// Synthetic L2-normalized rows generated on the device, so that a 10M x 512
// gallery never has to exist in host memory or cross PCIe.
#ifndef CANDOR_BENCH_GPU_SYNTHETIC_ROWS_H_
#define CANDOR_BENCH_GPU_SYNTHETIC_ROWS_H_

#include <cstdint>

#include "absl/status/status.h"

namespace candor::bench {

// Fills rows x dim floats (device memory) with hash-derived values uniform in
// [-1, 1), a pure function of (seed, first_row + row, column), then
// L2-normalizes each row with the candor kernel. Enqueues on `stream`
// (a cudaStream_t; nullptr = legacy default stream).
absl::Status GenerateUnitRowsDevice(float* rows_out, int64_t rows, int dim,
                                    uint64_t seed, int64_t first_row,
                                    void* stream);

}  // namespace candor::bench

#endif  // CANDOR_BENCH_GPU_SYNTHETIC_ROWS_H_
