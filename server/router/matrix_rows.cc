#include "server/router/matrix_rows.h"

#include "absl/strings/str_cat.h"

namespace candor::router {
namespace {

size_t RowBytes(const v1::Matrix& matrix) {
  return static_cast<size_t>(matrix.cols()) * sizeof(float);
}

}  // namespace

absl::StatusOr<int> CheckMatrix(const v1::Matrix& matrix, int max_rows,
                                const std::string& field) {
  if (matrix.rows() == 0 || matrix.rows() > static_cast<uint32_t>(max_rows)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", matrix.rows(), " rows is outside 1..", max_rows));
  }
  if (matrix.cols() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": 0 columns"));
  }
  const size_t expected = static_cast<size_t>(matrix.rows()) * RowBytes(matrix);
  if (matrix.data().size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": data holds ", matrix.data().size(), " bytes; ", matrix.rows(),
        " x ", matrix.cols(), " float32 need ", expected));
  }
  return static_cast<int>(matrix.rows());
}

v1::Matrix PickRows(const v1::Matrix& matrix, const std::vector<int>& rows) {
  const size_t row_bytes = RowBytes(matrix);
  v1::Matrix out;
  out.set_rows(static_cast<uint32_t>(rows.size()));
  out.set_cols(matrix.cols());
  std::string* data = out.mutable_data();
  data->reserve(rows.size() * row_bytes);
  for (int r : rows) {
    data->append(matrix.data(), static_cast<size_t>(r) * row_bytes, row_bytes);
  }
  return out;
}

v1::Matrix RowRange(const v1::Matrix& matrix, int first, int count) {
  const size_t row_bytes = RowBytes(matrix);
  v1::Matrix out;
  out.set_rows(static_cast<uint32_t>(count));
  out.set_cols(matrix.cols());
  out.set_data(matrix.data().substr(static_cast<size_t>(first) * row_bytes,
                                    static_cast<size_t>(count) * row_bytes));
  return out;
}

}  // namespace candor::router
