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

void L2NormalizeRowsReference(const float* in, int64_t rows, int64_t dim,
                              float* out, RowStatus* row_status) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in + r * dim;
    float* y = out + r * dim;
    double sum_sq = 0.0;
    bool finite = true;
    for (int64_t c = 0; c < dim; ++c) {
      if (!std::isfinite(x[c])) finite = false;
      sum_sq += static_cast<double>(x[c]) * x[c];
    }
    RowStatus status = RowStatus::kOk;
    if (!finite) {
      status = RowStatus::kNonFinite;
    } else if (!(sum_sq > 0.0) || !std::isfinite(sum_sq)) {
      // A finite row can only overflow sum_sq past double's range if dim is
      // astronomically large; treat both degenerate cases as unusable.
      status = RowStatus::kZero;
    }
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

absl::Status L2NormalizeRowsInPlace(float* data, int64_t rows, int64_t dim,
                                    const std::string& what) {
  std::vector<RowStatus> status(static_cast<size_t>(rows));
  L2NormalizeRowsReference(data, rows, dim, data, status.data());
  for (int64_t r = 0; r < rows; ++r) {
    if (status[r] != RowStatus::kOk) {
      return absl::InvalidArgumentError(absl::StrCat(what, " row ", r, ": ",
                                                     RowStatusName(status[r]),
                                                     " cannot be normalized"));
    }
  }
  return absl::OkStatus();
}

}  // namespace candor::kernels
