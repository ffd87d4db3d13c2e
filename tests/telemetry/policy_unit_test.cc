// The one threshold decision both roles run: floor and override merged,
// the request's threshold or the policy's, the verdict applied and counted.
#include "server/telemetry/policy_unit.h"

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/telemetry/metrics.h"
#include "server/telemetry/metrics_observer.h"

namespace candor::telemetry {
namespace {

using ::testing::HasSubstr;

// 1000 non-mated searches of group A: 10 at 0.5, the rest at 0.1.
CalibrationStore::Ptr Cal(uint64_t gallery_size) {
  CalibrationMeta meta;
  meta.created_at_us = 1;
  meta.gallery_size = gallery_size;
  meta.source = kSourceLabeled;
  std::vector<NonMatedObservation> nonmated;
  for (int i = 0; i < 1000; ++i) nonmated.push_back({"A", i < 10 ? 0.5f : 0.1f});
  return std::make_shared<const Calibration>(
      *Calibration::Build(meta, nonmated, {}));
}

v1::SearchRequest At(std::optional<float> threshold) {
  v1::SearchRequest r;
  r.set_gallery("g");
  if (threshold) r.set_threshold(*threshold);
  return r;
}

class PolicyUnitTest : public ::testing::Test {
 protected:
  PolicyUnitTest() {
    metrics_ = *Metrics::Create({});
    observer_ = std::make_unique<MetricsObserver>(metrics_.get(), &store_, 4);
  }
  PolicyUnit Unit(Policy floor) {
    PolicyUnit::Options options;
    options.floor = floor;
    options.how_to_calibrate = "run Calibrate here";
    return PolicyUnit(options, &store_, observer_.get());
  }
  std::string Text() { return metrics_->RenderText(); }

  CalibrationStore store_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<MetricsObserver> observer_;
};

TEST_F(PolicyUnitTest, OverrideOnlyTightensTheFloor) {
  Policy floor;
  floor.min_threshold = 0.3f;
  floor.action = PolicyAction::kWarn;
  PolicyUnit unit = Unit(floor);
  Policy looser;
  looser.min_threshold = 0.1f;
  EXPECT_EQ(unit.Effective(looser).min_threshold, 0.3f);
  Policy stricter;
  stricter.min_threshold = 0.5f;
  stricter.action = PolicyAction::kReject;
  EXPECT_EQ(unit.Effective(stricter).min_threshold, 0.5f);
  EXPECT_EQ(unit.Effective(stricter).action, PolicyAction::kReject);
  EXPECT_EQ(unit.CheckOverride(looser).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(unit.CheckOverride(stricter).ok());
  Policy bad;
  bad.max_fpir = 2.0;
  EXPECT_EQ(unit.CheckOverride(bad).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PolicyUnitTest, RequestThresholdIsReportedAtTheGallerysSizeNow) {
  store_.Keep("g", Cal(1000));
  PolicyUnit unit = Unit(Policy());
  auto d = unit.Decide({"g", 1000, Policy()}, At(0.4f));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FLOAT_EQ(d->threshold, 0.4f);
  EXPECT_EQ(d->source, v1::ThresholdReport::REQUEST);
  EXPECT_EQ(d->report.fpir().errors(), 10u);
  EXPECT_FALSE(d->report.calibration().stale());
  // 50% larger than calibrated: stale.
  d = unit.Decide({"g", 1500, Policy()}, At(0.4f));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->report.calibration().stale());
  EXPECT_THAT(Text(), HasSubstr(
      "candor_policy_verdicts_total{outcome=\"no_policy\"} 2"));
}

TEST_F(PolicyUnitTest, GalleryOverrideRejectsAndIsCounted) {
  store_.Keep("g", Cal(1000));
  PolicyUnit unit = Unit(Policy());
  Policy strict;
  strict.max_fpir = 0.001;
  auto d = unit.Decide({"g", 1000, strict}, At(0.4f));
  EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsPolicyRejection(d.status()));
  EXPECT_THAT(d.status().message(), HasSubstr("(10/1000)"));
  // Another gallery without the override answers.
  store_.Keep("h", Cal(1000));
  EXPECT_TRUE(unit.Decide({"h", 1000, Policy()}, At(0.4f)).ok());
  const std::string text = Text();
  EXPECT_THAT(text, HasSubstr("candor_policy_verdicts_total{outcome=\"reject\"} 1"));
}

TEST_F(PolicyUnitTest, PolicyThresholdWithoutRequestOne) {
  store_.Keep("g", Cal(1000));
  Policy floor;
  floor.max_fpir = 0.005;
  PolicyUnit unit = Unit(floor);
  auto d = unit.Decide({"g", 1000, Policy()}, At(std::nullopt));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->source, v1::ThresholdReport::POLICY);
  EXPECT_GT(d->threshold, 0.5f);
  EXPECT_THAT(Text(), HasSubstr("candor_policy_threshold{gallery=\"g\"}"));
}

TEST_F(PolicyUnitTest, PolicyNeedingACalibrationSaysHowToGetOne) {
  Policy floor;
  floor.max_fpir = 0.005;
  PolicyUnit unit = Unit(floor);
  auto d = unit.Decide({"g", 10, Policy()}, At(std::nullopt));
  EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(d.status().message(), HasSubstr("run Calibrate here"));
  auto report = unit.Report({"g", 10, Policy()}, v1::GetCalibrationRequest());
  EXPECT_EQ(report.status(),
            absl::FailedPreconditionError(
                "gallery 'g' has no calibration: run Calibrate here"));
  bool calibrated = true, stale = true;
  unit.Describe({"g", 10, Policy()}, &calibrated, &stale);
  EXPECT_FALSE(calibrated);
  EXPECT_FALSE(stale);
}

TEST_F(PolicyUnitTest, ReportUsesTheEffectivePolicysTarget) {
  store_.Keep("g", Cal(1000));
  PolicyUnit unit = Unit(Policy());
  Policy override_policy;
  override_policy.max_fpir = 0.005;
  auto report = unit.Report({"g", 1000, override_policy},
                            v1::GetCalibrationRequest());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_DOUBLE_EQ(report->target_fpir(), 0.005);
}

}  // namespace
}  // namespace candor::telemetry
