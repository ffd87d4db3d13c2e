// L2 normalization of embedding rows: the plain C++ API any compiler reads.
//
// Contract (shared by the CPU reference and the CUDA kernel): each row of
// `dim` float32 values is divided by its L2 norm. A row whose values are not
// all finite, or whose norm is zero (or underflows to zero), is a bad row:
// it is reported per row and its output is left as zeros; the other rows are
// still normalized. Callers turn bad rows into an error naming the row.
#ifndef CANDOR_KERNELS_NORMALIZE_H_
#define CANDOR_KERNELS_NORMALIZE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace candor::kernels {

enum class RowStatus : uint8_t {
  kOk = 0,
  kZero = 1,       // norm is zero (all zeros, or underflow)
  kNonFinite = 2,  // a NaN or +-Inf value
};

const char* RowStatusName(RowStatus status);

// CPU reference. `in` and `out` are host memory, rows x dim, row-major; they
// may alias (in place). `row_status` receives one entry per row. The norm is
// accumulated in double, so the result is the correctly rounded float of
// x / ||x|| up to one ulp.
void L2NormalizeRowsReference(const float* in, int64_t rows, int64_t dim,
                              float* out, RowStatus* row_status);

// Convenience for the server: normalizes in place and returns
// InvalidArgument naming the first bad row ("<what> row 3: zero vector")
// when any row is bad. `what` names the rows in messages ("probe", "vector").
absl::Status L2NormalizeRowsInPlace(float* data, int64_t rows, int64_t dim,
                                    const std::string& what);

// The checks of L2NormalizeRowsInPlace without the division, for rows that
// the CUDA kernel will normalize on the device: the same error for the
// first bad row; `data` is only read.
absl::Status CheckRowsNormalizable(const float* data, int64_t rows, int64_t dim,
                                   const std::string& what);

// The error both functions above return for a bad row (also used when the
// device kernel reports one).
absl::Status BadRowError(const std::string& what, int64_t row,
                         RowStatus status);

}  // namespace candor::kernels

#endif  // CANDOR_KERNELS_NORMALIZE_H_
