#include "server/telemetry/report.h"

#include <cmath>

#include "gtest/gtest.h"

namespace candor::telemetry {
namespace {

constexpr int64_t kCalibratedAtUs = 1'700'000'000'000'000;

// Group A: non-mated top-1 scores 0.1 .. 0.9 (9), group B: 0.45, 0.55, 0.65
// (3); mates of A at 0.8 (rank 0) and missed, of B at 0.3 (rank 2).
Calibration TwoGroups() {
  CalibrationMeta meta;
  meta.created_at_us = kCalibratedAtUs;
  meta.gallery_size = 1000;
  meta.gallery_version = 3;
  meta.source = kSourceSelfAudit;
  meta.top_k = 10;
  std::vector<NonMatedObservation> nonmated;
  for (int i = 1; i <= 9; ++i) nonmated.push_back({"A", i / 10.0f});
  for (float s : {0.45f, 0.55f, 0.65f}) nonmated.push_back({"B", s});
  nonmated.push_back({"", 0.95f});
  std::vector<MatedObservation> mated = {
      {"A", 0.8f, 0}, {"A", 0.0f, -1}, {"B", 0.3f, 2}};
  return *Calibration::Build(meta, nonmated, mated);
}

const GroupRates& Find(const ThresholdReport& r, const std::string& g) {
  for (const GroupRates& x : r.groups) {
    if (x.group == g) return x;
  }
  ADD_FAILURE() << "no group " << g;
  return r.groups.front();
}

TEST(ThresholdReportTest, RatesDisparityAndGarbeAtThreshold) {
  const Calibration cal = TwoGroups();
  const ThresholdReport r = MakeThresholdReport(
      &cal, {1050, kCalibratedAtUs + 90'000'000}, 0.5f, ThresholdSource::kRequest);
  EXPECT_EQ(r.threshold, 0.5f);
  // A: 0.5..0.9 >= 0.5 -> 5/9; B: 0.55, 0.65 -> 2/3; unlabeled 1/1.
  EXPECT_EQ(Find(r, "A").fpir.errors, 5u);
  EXPECT_EQ(Find(r, "B").fpir.errors, 2u);
  EXPECT_EQ(r.fpir.errors, 8u);
  EXPECT_EQ(r.fpir.searches, 13u);
  // A: mate at 0.8 found, one missed -> 1/2; B: 0.3 < 0.5 -> 1/1.
  EXPECT_EQ(Find(r, "A").fnir.errors, 1u);
  EXPECT_EQ(Find(r, "B").fnir.errors, 1u);
  EXPECT_EQ(r.fnir.errors, 2u);
  // Disparity over the labeled groups only: (2/3) / (5/9) = 1.2.
  ASSERT_TRUE(r.fpir_disparity.defined);
  EXPECT_NEAR(r.fpir_disparity.ratio, 1.2, 1e-12);
  EXPECT_EQ(r.fpir_disparity.max_group, "B");
  EXPECT_NEAR(r.fnir_disparity.ratio, 2.0, 1e-12);
  // Gini of two values {a, b}: |a - b| / (a + b).
  const double gini_fpir = (2.0 / 3 - 5.0 / 9) / (2.0 / 3 + 5.0 / 9);
  const double gini_fnir = 0.5 / 1.5;
  ASSERT_TRUE(r.garbe_defined);
  EXPECT_NEAR(r.garbe, 0.5 * gini_fpir + 0.5 * gini_fnir, 1e-12);
  // 5% growth: not stale.
  EXPECT_TRUE(r.calibration.present);
  EXPECT_FALSE(r.calibration.stale);
  EXPECT_DOUBLE_EQ(r.calibration.age_seconds, 90.0);
  EXPECT_EQ(r.calibration.source, "self-audit");
  EXPECT_FALSE(r.fpir_extrapolated.has_value());
  EXPECT_FALSE(Find(r, "A").fpir_extrapolated.has_value());
}

TEST(ThresholdReportTest, StaleCalibrationExtrapolatesFpir) {
  const Calibration cal = TwoGroups();
  // 1000 -> 2000 entries: 100% growth.
  const ThresholdReport r = MakeThresholdReport(&cal, {2000, kCalibratedAtUs},
                                                0.5f, ThresholdSource::kPolicy);
  EXPECT_TRUE(r.calibration.stale);
  const GroupRates& a = Find(r, "A");
  ASSERT_TRUE(a.fpir_extrapolated.has_value());
  EXPECT_TRUE(a.fpir_extrapolated->estimated);
  EXPECT_NEAR(a.fpir_extrapolated->rate, 1 - std::pow(1 - 5.0 / 9, 2.0), 1e-12);
  EXPECT_NEAR(a.fpir_extrapolated->ci_high, 1 - std::pow(1 - a.fpir.ci_high, 2.0),
              1e-12);
  ASSERT_TRUE(r.fpir_extrapolated.has_value());
  EXPECT_NEAR(r.fpir_extrapolated->rate, 1 - std::pow(1 - 8.0 / 13, 2.0), 1e-12);
  EXPECT_FALSE(a.fpir.estimated);
}

TEST(ThresholdReportTest, StalenessBoundaryIsStrict) {
  const Calibration cal = TwoGroups();
  EXPECT_FALSE(DescribeCalibration(&cal, {1100, 0}).stale);
  EXPECT_FALSE(DescribeCalibration(&cal, {900, 0}).stale);
  EXPECT_TRUE(DescribeCalibration(&cal, {1101, 0}).stale);
  EXPECT_TRUE(DescribeCalibration(&cal, {899, 0}).stale);
}

TEST(ThresholdReportTest, WithoutCalibrationSaysSo) {
  const ThresholdReport r =
      MakeThresholdReport(nullptr, {10, 0}, 0.4f, ThresholdSource::kRequest);
  EXPECT_FALSE(r.calibration.present);
  EXPECT_EQ(r.calibration.gallery_size_now, 10u);
  EXPECT_EQ(r.fpir.searches, 0u);
  EXPECT_TRUE(r.groups.empty());
  EXPECT_FALSE(r.garbe_defined);
}

TEST(CalibrationReportTest, GridPointsAndThresholdForTarget) {
  const Calibration cal = TwoGroups();
  absl::StatusOr<CalibrationReport> r =
      MakeCalibrationReport(cal, {1000, kCalibratedAtUs}, {}, 0.34);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->overall.points.size(), 41u);
  EXPECT_EQ(r->overall.points.front().threshold, -1.0f);
  EXPECT_EQ(r->overall.points[20].threshold, 0.0f);
  EXPECT_EQ(r->overall.points.back().threshold, 1.0f);
  EXPECT_EQ(r->fpir_disparity.size(), 41u);
  EXPECT_EQ(r->garbe.size(), 41u);
  ASSERT_EQ(r->groups.size(), 3u);
  const GroupCalibration& a = r->groups[1];
  EXPECT_EQ(a.group, "A");
  EXPECT_EQ(a.nonmated_searches, 9u);
  EXPECT_EQ(a.mated_searches, 2u);
  // A may keep 3 of 9 (3/9 <= 0.34): T just above 0.6. B may keep 1 of 3:
  // just above 0.55. Unlabeled (one search) may keep none: above 0.95.
  EXPECT_EQ(a.threshold_for_target, std::nextafter(0.6f, 1.0f));
  EXPECT_EQ(r->groups[2].threshold_for_target, std::nextafter(0.55f, 1.0f));
  EXPECT_EQ(r->threshold_for_target, std::nextafter(0.95f, 1.0f));
  // At grid point 0.5 the report matches the single-threshold report.
  const ThresholdReport at = MakeThresholdReport(&cal, {1000, kCalibratedAtUs},
                                                 0.5f, ThresholdSource::kRequest);
  EXPECT_EQ(r->overall.points[30].fpir.errors, at.fpir.errors);
  EXPECT_DOUBLE_EQ(r->fpir_disparity[30].ratio, at.fpir_disparity.ratio);
  EXPECT_DOUBLE_EQ(*r->garbe[30], at.garbe);
}

TEST(CalibrationReportTest, RejectsBadGridAndTarget) {
  const Calibration cal = TwoGroups();
  EXPECT_EQ(MakeCalibrationReport(cal, {1000, 0}, {1.5f}, 0.01).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(MakeCalibrationReport(cal, {1000, 0}, {}, -0.1).ok());
  EXPECT_FALSE(MakeCalibrationReport(cal, {1000, 0}, {}, 1.5).ok());
}

}  // namespace
}  // namespace candor::telemetry
