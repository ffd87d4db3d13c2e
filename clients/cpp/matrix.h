// Packing float matrices into the API's Matrix message: rows x cols float32
// values, row-major, little-endian bytes. Shared by the C++ client, the CLI,
// the benchmarks and (if it likes) the server.
#ifndef CANDOR_CLIENTS_CPP_MATRIX_H_
#define CANDOR_CLIENTS_CPP_MATRIX_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "candor/v1/candor.pb.h"

namespace candor {

// Packs `values` (rows * cols floats, row-major) into a Matrix.
// InvalidArgument when the span's size is not rows * cols, or a dimension
// does not fit the message's uint32 fields.
absl::StatusOr<v1::Matrix> PackMatrix(absl::Span<const float> values,
                                      int64_t rows, int64_t cols);

// Unpacks a Matrix into rows * cols floats, row-major. InvalidArgument, with
// the numbers, when data is not exactly rows * cols * 4 bytes or when
// expected_cols is non-zero and differs from matrix.cols().
absl::StatusOr<std::vector<float>> UnpackMatrix(const v1::Matrix& matrix,
                                                uint32_t expected_cols = 0);

}  // namespace candor

#endif  // CANDOR_CLIENTS_CPP_MATRIX_H_
