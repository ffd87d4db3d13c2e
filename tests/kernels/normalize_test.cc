#include "kernels/normalize.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace candor::kernels {
namespace {

TEST(NormalizeReference, RowsHaveUnitNormAndKeepDirection) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  const int64_t rows = 17, dim = 33;
  std::vector<float> in(rows * dim), out(rows * dim);
  for (float& v : in) v = dist(rng);
  std::vector<RowStatus> status(rows);
  L2NormalizeRowsReference(in.data(), rows, dim, out.data(), status.data());
  for (int64_t r = 0; r < rows; ++r) {
    ASSERT_EQ(status[r], RowStatus::kOk);
    double norm = 0, dot = 0, in_norm = 0;
    for (int64_t c = 0; c < dim; ++c) {
      norm += double(out[r * dim + c]) * out[r * dim + c];
      dot += double(out[r * dim + c]) * in[r * dim + c];
      in_norm += double(in[r * dim + c]) * in[r * dim + c];
    }
    EXPECT_NEAR(norm, 1.0, 1e-6);
    EXPECT_NEAR(dot, std::sqrt(in_norm), 1e-4 * std::sqrt(in_norm));
  }
}

TEST(NormalizeReference, BadRowsAreReportedPerRowAndZeroed) {
  const int64_t dim = 4;
  std::vector<float> in = {1,
                           2,
                           3,
                           4,  // ok
                           0,
                           0,
                           0,
                           0,  // zero
                           1,
                           std::numeric_limits<float>::quiet_NaN(),
                           0,
                           0,
                           std::numeric_limits<float>::infinity(),
                           0,
                           0,
                           0,
                           0,
                           0,
                           0,
                           1e-30f};  // tiny but representable
  const int64_t rows = static_cast<int64_t>(in.size()) / dim;
  std::vector<float> out(in.size(), 7.0f);
  std::vector<RowStatus> status(rows);
  L2NormalizeRowsReference(in.data(), rows, dim, out.data(), status.data());
  EXPECT_EQ(status[0], RowStatus::kOk);
  EXPECT_EQ(status[1], RowStatus::kZero);
  EXPECT_EQ(status[2], RowStatus::kNonFinite);
  EXPECT_EQ(status[3], RowStatus::kNonFinite);
  EXPECT_EQ(status[4], RowStatus::kOk);
  EXPECT_FLOAT_EQ(out[4 * dim + 3], 1.0f);
  for (int64_t r = 1; r <= 3; ++r) {
    for (int64_t c = 0; c < dim; ++c) EXPECT_EQ(out[r * dim + c], 0.0f);
  }
}

TEST(NormalizeInPlace, NamesTheFirstBadRow) {
  std::vector<float> data = {1, 0, 0, 0, 0, 0};
  absl::Status s = L2NormalizeRowsInPlace(data.data(), 3, 2, "probe");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("probe row 1"), std::string::npos) << s;
  EXPECT_NE(s.message().find("zero vector"), std::string::npos) << s;
}

TEST(NormalizeInPlace, OkWhenAllRowsAreGood) {
  std::vector<float> data = {3, 4, 0, -2};
  ASSERT_TRUE(L2NormalizeRowsInPlace(data.data(), 2, 2, "vector").ok());
  EXPECT_FLOAT_EQ(data[0], 0.6f);
  EXPECT_FLOAT_EQ(data[1], 0.8f);
  EXPECT_FLOAT_EQ(data[3], -1.0f);
}

// The check the server makes when the device normalizes: the same verdict
// and message as L2NormalizeRowsInPlace for every kind of row, and the rows
// left as they were.
TEST(CheckRowsNormalizable, AgreesWithNormalizeInPlaceAndWritesNothing) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const float tiny = std::numeric_limits<float>::denorm_min();
  const std::vector<std::vector<float>> cases = {
      {3, 4, 1e-3f, -7},    // all good
      {3, 4, 0, 0},         // row 1 zero
      {1, 2, 3, nan},       // row 1 NaN
      {inf, 1, 0, 0},       // row 0 Inf (row 1 zero as well)
      {5, 5, tiny, tiny}};  // row 1: squares vanish in float, not double
  for (const std::vector<float>& rows : cases) {
    std::vector<float> normalized = rows;
    const absl::Status expected =
        L2NormalizeRowsInPlace(normalized.data(), 2, 2, "probes");
    std::vector<float> checked = rows;
    const absl::Status got =
        CheckRowsNormalizable(checked.data(), 2, 2, "probes");
    EXPECT_EQ(got, expected);
    for (size_t i = 0; i < rows.size(); ++i) {
      if (std::isnan(rows[i])) {
        EXPECT_TRUE(std::isnan(checked[i]));
      } else {
        EXPECT_EQ(checked[i], rows[i]);
      }
    }
  }
  EXPECT_FALSE(CheckRowsNormalizable(cases[1].data(), 2, 2, "probes").ok());
  EXPECT_TRUE(CheckRowsNormalizable(cases[0].data(), 2, 2, "probes").ok());
}

}  // namespace
}  // namespace candor::kernels
