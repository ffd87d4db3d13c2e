// CPU reference of the L2-normalize kernel (contract in normalize.h).
#include <cmath>

#include "absl/strings/str_cat.h"
#include "kernels/normalize.h"

namespace candor::kernels {

const char* RowStatusName(RowStatus status) {
  switch (status) {
    case RowStatus::kOk:
      return "ok";
    case RowStatus::kZero:
      return "zero vector";
    case RowStatus::kNonFinite:
      return "NaN or Inf value";
  }
  return "unknown";
}

namespace {

// A row's status under the contract, and its sum of squares in double.
RowStatus ClassifyRow(const float* x, int64_t dim, double* sum_sq) {
  double sum = 0.0;
  bool finite = true;
  for (int64_t c = 0; c < dim; ++c) {
    if (!std::isfinite(x[c])) finite = false;
    sum += static_cast<double>(x[c]) * x[c];
  }
  *sum_sq = sum;
  if (!finite) return RowStatus::kNonFinite;
  // A finite row can only overflow the sum past double's range if dim is
  // astronomically large; treat both degenerate cases as unusable.
  if (!(sum > 0.0) || !std::isfinite(sum)) return RowStatus::kZero;
  return RowStatus::kOk;
}

}  // namespace

void L2NormalizeRowsReference(const float* in, int64_t rows, int64_t dim,
                              float* out, RowStatus* row_status) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in + r * dim;
    float* y = out + r * dim;
    double sum_sq = 0.0;
    const RowStatus status = ClassifyRow(x, dim, &sum_sq);
    row_status[r] = status;
    if (status != RowStatus::kOk) {
      for (int64_t c = 0; c < dim; ++c) y[c] = 0.0f;
      continue;
    }
    const double inv_norm = 1.0 / std::sqrt(sum_sq);
    for (int64_t c = 0; c < dim; ++c) {
      y[c] = static_cast<float>(x[c] * inv_norm);
    }
  }
}

absl::Status BadRowError(const std::string& what, int64_t row,
                         RowStatus status) {
  return absl::InvalidArgumentError(absl::StrCat(what, " row ", row, ": ",
                                                 RowStatusName(status),
                                                 " cannot be normalized"));
}

absl::Status L2NormalizeRowsInPlace(float* data, int64_t rows, int64_t dim,
                                    const std::string& what) {
  std::vector<RowStatus> status(static_cast<size_t>(rows));
  L2NormalizeRowsReference(data, rows, dim, data, status.data());
  for (int64_t r = 0; r < rows; ++r) {
    if (status[r] != RowStatus::kOk) return BadRowError(what, r, status[r]);
  }
  return absl::OkStatus();
}

absl::Status CheckRowsNormalizable(const float* data, int64_t rows, int64_t dim,
                                   const std::string& what) {
  for (int64_t r = 0; r < rows; ++r) {
    double sum_sq = 0.0;
    const RowStatus status = ClassifyRow(data + r * dim, dim, &sum_sq);
    if (status != RowStatus::kOk) return BadRowError(what, r, status);
  }
  return absl::OkStatus();
}

}  // namespace candor::kernels
