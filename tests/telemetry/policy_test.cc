#include "server/telemetry/policy.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace candor::telemetry {
namespace {

using ::testing::HasSubstr;

// Group A: 975 non-mated searches, 12 of them at 0.45 and the rest at 0.1;
// group B: 1000 searches, one at 0.45 and the rest at 0.1.
Calibration Cal(uint64_t gallery_size = 1000) {
  CalibrationMeta meta;
  meta.created_at_us = 1;
  meta.gallery_size = gallery_size;
  meta.source = kSourceLabeled;
  std::vector<NonMatedObservation> nonmated;
  for (int i = 0; i < 975; ++i) nonmated.push_back({"A", i < 12 ? 0.45f : 0.1f});
  for (int i = 0; i < 1000; ++i) nonmated.push_back({"B", i < 1 ? 0.45f : 0.1f});
  return *Calibration::Build(meta, nonmated, {});
}

Policy MaxFpir(double max_fpir, PolicyAction action) {
  Policy p;
  p.max_fpir = max_fpir;
  p.action = action;
  return p;
}

TEST(PolicyTest, NoConstraintIsNoPolicy) {
  const Calibration cal = Cal();
  const ThresholdReport r = MakeThresholdReport(&cal, {1000, 1}, 0.4f, ThresholdSource::kRequest);
  const Verdict v = Evaluate(Policy{}, 0.4f, &r);
  EXPECT_EQ(v.outcome, VerdictOutcome::kNoPolicy);
  EXPECT_TRUE(v.violations.empty());
  EXPECT_TRUE(ToRejectError(v).ok());
}

TEST(PolicyTest, MaxFpirBreachRejectsWithTheNumbers) {
  const Calibration cal = Cal();
  const ThresholdReport r = MakeThresholdReport(&cal, {1000, 1}, 0.4f, ThresholdSource::kRequest);
  const Verdict v = Evaluate(MaxFpir(0.001, PolicyAction::kReject), 0.4f, &r);
  EXPECT_EQ(v.outcome, VerdictOutcome::kReject);
  // B's FPIR is exactly 0.001: not above the limit.
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0],
            "FPIR of group A at threshold 0.4 is 0.01231 (12/975), above "
            "max_fpir 0.001");
  const absl::Status s = ToRejectError(v);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("(12/975)"));
}

TEST(PolicyTest, WarnAnswersAndPassHolds) {
  const Calibration cal = Cal();
  ThresholdReport r = MakeThresholdReport(&cal, {1000, 1}, 0.4f, ThresholdSource::kRequest);
  EXPECT_EQ(Evaluate(MaxFpir(0.001, PolicyAction::kWarn), 0.4f, &r).outcome,
            VerdictOutcome::kWarn);
  EXPECT_TRUE(ToRejectError(Evaluate(MaxFpir(0.001, PolicyAction::kWarn), 0.4f, &r)).ok());
  r = MakeThresholdReport(&cal, {1000, 1}, 0.5f, ThresholdSource::kRequest);
  EXPECT_EQ(Evaluate(MaxFpir(0.001, PolicyAction::kReject), 0.5f, &r).outcome,
            VerdictOutcome::kPass);
}

TEST(PolicyTest, UnspecifiedActionRejects) {
  const Calibration cal = Cal();
  const ThresholdReport r = MakeThresholdReport(&cal, {1000, 1}, 0.4f, ThresholdSource::kRequest);
  EXPECT_EQ(Evaluate(MaxFpir(0.001, PolicyAction::kUnspecified), 0.4f, &r).outcome,
            VerdictOutcome::kReject);
}

TEST(PolicyTest, MinThresholdAndDisparity) {
  const Calibration cal = Cal();
  const ThresholdReport r = MakeThresholdReport(&cal, {1000, 1}, 0.4f, ThresholdSource::kRequest);
  Policy p;
  p.min_threshold = 0.6f;
  p.max_disparity = 10.0;
  p.action = PolicyAction::kWarn;
  const Verdict v = Evaluate(p, 0.4f, &r);
  EXPECT_EQ(v.outcome, VerdictOutcome::kWarn);
  // Disparity (12/975) / (1/1000) = 12.3 > 10.
  ASSERT_EQ(v.violations.size(), 2u);
  EXPECT_THAT(v.violations[0], HasSubstr("below min_threshold 0.6"));
  EXPECT_THAT(v.violations[1], HasSubstr("disparity at threshold 0.4 is 12.31"));
  p.max_disparity = 13.0;
  EXPECT_EQ(Evaluate(p, 0.4f, &r).violations.size(), 1u);
}

TEST(PolicyTest, StaleCalibrationChecksExtrapolatedFpir) {
  const Calibration cal = Cal();
  // B: 0.001 at N0 = 1000 entries; at 3000 entries about 0.003.
  const ThresholdReport r = MakeThresholdReport(&cal, {3000, 1}, 0.4f, ThresholdSource::kRequest);
  const Verdict v = Evaluate(MaxFpir(0.002, PolicyAction::kReject), 0.4f, &r);
  ASSERT_EQ(v.violations.size(), 2u);
  EXPECT_THAT(v.violations[1], HasSubstr("group B"));
  EXPECT_THAT(v.violations[1], HasSubstr("extrapolated"));
}

TEST(PolicyTest, WithoutCalibration) {
  const Verdict v = Evaluate(MaxFpir(0.01, PolicyAction::kReject), 0.4f, nullptr);
  EXPECT_EQ(v.outcome, VerdictOutcome::kReject);
  EXPECT_THAT(v.violations[0], HasSubstr("no calibration"));
  const absl::StatusOr<float> t =
      PolicyThreshold(MaxFpir(0.01, PolicyAction::kReject), nullptr, "faces", 10);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(t.status().message(),
            "gallery faces has no calibration; policy max_fpir needs one: run "
            "Calibrate");
  // min_threshold alone needs no calibration.
  Policy min_only;
  min_only.min_threshold = 0.7f;
  EXPECT_EQ(*PolicyThreshold(min_only, nullptr, "faces", 10), 0.7f);
  // Neither: no threshold to give.
  EXPECT_EQ(PolicyThreshold(Policy{}, nullptr, "faces", 10).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(PolicyTest, PolicyThresholdHoldsEveryGroup) {
  const Calibration cal = Cal();
  // 0.001: A must drop all 12 at 0.45 (B's one is allowed).
  absl::StatusOr<float> t =
      PolicyThreshold(MaxFpir(0.001, PolicyAction::kReject), &cal, "g", 1000);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, std::nextafter(0.45f, 1.0f));
  // 0.5: every score is 0.1 or 0.45, so T must step over 0.1.
  EXPECT_EQ(*PolicyThreshold(MaxFpir(0.5, PolicyAction::kReject), &cal, "g", 1000),
            std::nextafter(0.1f, 1.0f));
  // 1.0: every group already meets it at -1.
  EXPECT_EQ(*PolicyThreshold(MaxFpir(1.0, PolicyAction::kReject), &cal, "g", 1000),
            -1.0f);
  // min_threshold raises it.
  Policy p = MaxFpir(1.0, PolicyAction::kReject);
  p.min_threshold = 0.3f;
  EXPECT_EQ(*PolicyThreshold(p, &cal, "g", 1000), 0.3f);
  // Stale: at 3x the size, 0.02 needs about 0.0067 at N0, which A (12/975 =
  // 0.0123) breaks below 0.45.
  EXPECT_EQ(*PolicyThreshold(MaxFpir(0.02, PolicyAction::kReject), &cal, "g", 1000),
            std::nextafter(0.1f, 1.0f));
  t = PolicyThreshold(MaxFpir(0.02, PolicyAction::kReject), &cal, "g", 3000);
  EXPECT_EQ(*t, std::nextafter(0.45f, 1.0f));
  const ThresholdReport r = MakeThresholdReport(&cal, {3000, 1}, *t, ThresholdSource::kPolicy);
  EXPECT_EQ(Evaluate(MaxFpir(0.02, PolicyAction::kReject), *t, &r).outcome,
            VerdictOutcome::kPass);
}

TEST(PolicyTest, MergeKeepsTheStricterOfFloorAndOverride) {
  Policy server;
  server.max_fpir = 0.001;
  server.min_threshold = 0.5f;
  server.action = PolicyAction::kReject;
  Policy tighter;
  tighter.max_fpir = 0.0001;
  tighter.min_threshold = 0.6f;
  tighter.max_disparity = 1.5;
  Policy m = Merge(server, tighter);
  EXPECT_EQ(*m.max_fpir, 0.0001);
  EXPECT_EQ(*m.min_threshold, 0.6f);
  EXPECT_EQ(*m.max_disparity, 1.5);
  EXPECT_EQ(m.action, PolicyAction::kReject);
  // A looser override stored before the floor was raised loses to it.
  Policy looser;
  looser.max_fpir = 0.01;
  looser.min_threshold = 0.1f;
  looser.action = PolicyAction::kWarn;
  m = Merge(server, looser);
  EXPECT_EQ(*m.max_fpir, 0.001);
  EXPECT_EQ(*m.min_threshold, 0.5f);
  EXPECT_EQ(m.action, PolicyAction::kReject);
  EXPECT_EQ(Merge(server, Policy{}).action, PolicyAction::kReject);
  // Without server constraints the gallery's own policy and action apply.
  Policy none;
  none.action = PolicyAction::kReject;
  EXPECT_EQ(Merge(none, looser).action, PolicyAction::kWarn);
  EXPECT_EQ(*Merge(none, looser).min_threshold, 0.1f);
}

TEST(PolicyTest, CheckTightensNamesTheFlagALooseningWouldUndercut) {
  Policy floor;
  floor.min_threshold = 0.5f;
  floor.max_fpir = 0.01;
  floor.max_disparity = 2.0;
  floor.action = PolicyAction::kReject;
  const std::pair<Policy, const char*> loosenings[] = {
      {Policy{0.4f, std::nullopt, std::nullopt, PolicyAction::kUnspecified},
       "--min_threshold"},
      {Policy{std::nullopt, 0.02, std::nullopt, PolicyAction::kUnspecified},
       "--max_fpir"},
      {Policy{std::nullopt, std::nullopt, 2.5, PolicyAction::kUnspecified},
       "--max_disparity"},
      {Policy{std::nullopt, std::nullopt, std::nullopt, PolicyAction::kWarn},
       "--policy_action"},
  };
  for (const auto& [p, flag] : loosenings) {
    absl::Status s = CheckTightens(floor, p);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << flag;
    EXPECT_NE(s.message().find(flag), std::string::npos) << s;
  }
  EXPECT_TRUE(CheckTightens(floor, Policy{0.6f, 0.001, 1.2,
                                          PolicyAction::kReject}).ok());
  EXPECT_TRUE(CheckTightens(floor, Policy{}).ok());
  // No floor: anything valid goes.
  EXPECT_TRUE(CheckTightens(Policy{}, Policy{-1.0f, 1.0, 100.0,
                                             PolicyAction::kWarn}).ok());
}

TEST(PolicyTest, OnlyARejectVerdictCarriesThePolicyRejectReason) {
  Verdict reject;
  reject.outcome = VerdictOutcome::kReject;
  reject.violations = {"threshold 0.1 is below min_threshold 0.5"};
  const absl::Status s = ToRejectError(reject);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsPolicyRejection(s));
  EXPECT_FALSE(IsPolicyRejection(
      absl::FailedPreconditionError("gallery 'g' has no calibration")));
  EXPECT_FALSE(IsPolicyRejection(absl::OkStatus()));
}

TEST(PolicyTest, JsonRoundTripAndValidation) {
  Policy p;
  p.min_threshold = 0.41f;
  p.max_fpir = 0.001;
  p.max_disparity = 1.5;
  p.action = PolicyAction::kWarn;
  absl::StatusOr<Policy> back = PolicyFromJson(PolicyToJson(p));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back->min_threshold, 0.41f);
  EXPECT_EQ(*back->max_fpir, 0.001);
  EXPECT_EQ(*back->max_disparity, 1.5);
  EXPECT_EQ(back->action, PolicyAction::kWarn);
  absl::StatusOr<Policy> empty = PolicyFromJson(PolicyToJson(Policy{}));
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->max_fpir.has_value());
  EXPECT_EQ(empty->action, PolicyAction::kUnspecified);
  EXPECT_FALSE(PolicyFromJson("{\"max_fpir\": 2}").ok());
  EXPECT_FALSE(PolicyFromJson("{\"max_disparity\": 0.5}").ok());
  EXPECT_FALSE(PolicyFromJson("{\"action\": \"ignore\"}").ok());
  EXPECT_FALSE(PolicyFromJson("{\"max_fpr\": 0.1}").ok());
  EXPECT_FALSE(PolicyFromJson("not json").ok());
}

}  // namespace
}  // namespace candor::telemetry
