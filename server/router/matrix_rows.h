// Splitting a packed Matrix by rows without unpacking its floats: the
// router forwards bytes, the shards validate and normalize them.
#ifndef CANDOR_SERVER_ROUTER_MATRIX_ROWS_H_
#define CANDOR_SERVER_ROUTER_MATRIX_ROWS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "candor/v1/candor.pb.h"

namespace candor::router {

// The row count, after checking rows in 1..max_rows, cols >= 1 and data
// holding exactly rows * cols float32 values. `field` names it in errors.
// The shards check the dimension and the values.
absl::StatusOr<int> CheckMatrix(const v1::Matrix& matrix, int max_rows,
                                const std::string& field);

// The listed rows, in that order. The matrix must have passed CheckMatrix.
v1::Matrix PickRows(const v1::Matrix& matrix, const std::vector<int>& rows);
// Rows [first, first + count).
v1::Matrix RowRange(const v1::Matrix& matrix, int first, int count);

}  // namespace candor::router

#endif  // CANDOR_SERVER_ROUTER_MATRIX_ROWS_H_
