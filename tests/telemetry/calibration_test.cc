#include "server/telemetry/calibration.h"

#include <cmath>
#include <limits>
#include <random>
#include <set>

#include "gtest/gtest.h"

namespace candor::telemetry {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

CalibrationMeta Meta(int top_k = 5) {
  CalibrationMeta meta;
  meta.created_at_us = 1'700'000'000'000'000;
  meta.gallery_size = 1000;
  meta.gallery_version = 7;
  meta.source = kSourceLabeled;
  meta.top_k = top_k;
  return meta;
}

// Random observations over groups "", A, B, C. Scores are multiples of 1/64
// so that many searches tie exactly at the grid thresholds.
struct Observations {
  std::vector<NonMatedObservation> nonmated;
  std::vector<MatedObservation> mated;
};

Observations RandomObservations(uint32_t seed, int n) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> group(0, 3);
  std::uniform_int_distribution<int> step(-64, 63);  // below 1.0
  std::uniform_int_distribution<int> rank(-1, 9);
  const char* names[] = {"", "A", "B", "C"};
  Observations o;
  for (int i = 0; i < n; ++i) {
    const int s = step(rng);
    // One in 20 non-mated searches returns no candidate.
    o.nonmated.push_back({names[group(rng)], s % 20 == 0 ? kNoScore : s / 64.0f});
    o.mated.push_back({names[group(rng)], step(rng) / 64.0f, rank(rng)});
  }
  return o;
}

// Brute force from the raw observations: the definitions, spelled out.
std::pair<uint64_t, uint64_t> CountFpir(const Observations& o,
                                        const std::string* group, float t) {
  uint64_t errors = 0, searches = 0;
  for (const NonMatedObservation& x : o.nonmated) {
    if (group != nullptr && x.group != *group) continue;
    ++searches;
    if (x.top1_score != kNoScore && x.top1_score >= t) ++errors;
  }
  return {errors, searches};
}

std::pair<uint64_t, uint64_t> CountFnir(const Observations& o,
                                        const std::string* group, float t,
                                        int top_k) {
  uint64_t errors = 0, searches = 0;
  for (const MatedObservation& x : o.mated) {
    if (group != nullptr && x.group != *group) continue;
    ++searches;
    const bool returned = x.mate_rank >= 0 && x.mate_rank < top_k && x.mate_score >= t;
    if (!returned) ++errors;
  }
  return {errors, searches};
}

TEST(CalibrationTest, RatesEqualBruteForceCountsIncludingTies) {
  const Observations o = RandomObservations(42, 3000);
  const int top_k = 5;
  absl::StatusOr<Calibration> cal = Calibration::Build(Meta(top_k), o.nonmated, o.mated);
  ASSERT_TRUE(cal.ok()) << cal.status();
  ASSERT_EQ(cal->groups().size(), 4u);
  std::vector<float> thresholds = {-1.0f, 1.0f, 0.0f, -kInf, 0.3f};
  for (int s = -64; s <= 64; ++s) {
    thresholds.push_back(s / 64.0f);
    thresholds.push_back(std::nextafter(s / 64.0f, kInf));
    thresholds.push_back(std::nextafter(s / 64.0f, -kInf));
  }
  for (float t : thresholds) {
    for (const GroupScores& g : cal->groups()) {
      const auto [fp, nm] = CountFpir(o, &g.group, t);
      const auto [fn, m] = CountFnir(o, &g.group, t, top_k);
      const Rate fpir = FpirAt(g, t);
      const Rate fnir = FnirAt(g, t);
      EXPECT_EQ(fpir.errors, fp) << "group " << g.group << " T " << t;
      EXPECT_EQ(fpir.searches, nm);
      EXPECT_EQ(fnir.errors, fn) << "group " << g.group << " T " << t;
      EXPECT_EQ(fnir.searches, m);
    }
    const auto [fp, nm] = CountFpir(o, nullptr, t);
    const auto [fn, m] = CountFnir(o, nullptr, t, top_k);
    EXPECT_EQ(FpirAt(cal->overall(), t).errors, fp);
    EXPECT_EQ(FpirAt(cal->overall(), t).searches, nm);
    EXPECT_EQ(FnirAt(cal->overall(), t).errors, fn);
    EXPECT_EQ(FnirAt(cal->overall(), t).searches, m);
  }
}

TEST(CalibrationTest, ScoreEqualToThresholdIsAMatch) {
  absl::StatusOr<Calibration> cal = Calibration::Build(
      Meta(), {{"A", 0.5f}, {"A", 0.25f}}, {{"A", 0.5f, 0}, {"A", 0.9f, 5}});
  ASSERT_TRUE(cal.ok());
  const GroupScores& a = cal->groups()[0];
  EXPECT_EQ(FpirAt(a, 0.5f).errors, 1u);
  EXPECT_EQ(FpirAt(a, std::nextafter(0.5f, 1.0f)).errors, 0u);
  // The mate at 0.5 is returned at T = 0.5; the one at rank 5 never is
  // (top_k = 5 keeps ranks 0..4).
  EXPECT_EQ(FnirAt(a, 0.5f).errors, 1u);
  EXPECT_EQ(FnirAt(a, -1.0f).errors, 1u);
}

TEST(CalibrationTest, ThresholdForTargetIsMinimal) {
  const Observations o = RandomObservations(7, 2000);
  absl::StatusOr<Calibration> cal = Calibration::Build(Meta(), o.nonmated, o.mated);
  ASSERT_TRUE(cal.ok());
  for (double target : {0.0, 0.001, 0.01, 0.05, 0.1, 0.37, 0.5, 0.9, 1.0}) {
    for (const GroupScores& g : cal->groups()) {
      const std::optional<float> t = ThresholdForTarget(g, target);
      ASSERT_TRUE(t.has_value()) << target;
      EXPECT_LE(FpirAt(g, *t).rate, target) << "group " << g.group;
      if (*t > -1.0f) {
        EXPECT_GT(FpirAt(g, std::nextafter(*t, -kInf)).rate, target)
            << "group " << g.group << " target " << target << " T " << *t;
      }
    }
    const std::optional<float> all = cal->ThresholdForAllGroups(target);
    ASSERT_TRUE(all.has_value());
    bool one_group_binds = *all == -1.0f;
    for (const GroupScores& g : cal->groups()) {
      EXPECT_LE(FpirAt(g, *all).rate, target);
      if (FpirAt(g, std::nextafter(*all, -kInf)).rate > target) one_group_binds = true;
    }
    EXPECT_TRUE(one_group_binds) << "T for all groups is not minimal";
  }
}

TEST(CalibrationTest, ThresholdForTargetEdgeCases) {
  // Scores {-inf, 0.2, 1.0}: FPIR(-1) = 2/3.
  absl::StatusOr<Calibration> cal = Calibration::Build(
      Meta(), {{"A", kNoScore}, {"A", 0.2f}, {"A", 1.0f}}, {});
  ASSERT_TRUE(cal.ok());
  const GroupScores& a = cal->groups()[0];
  EXPECT_EQ(ThresholdForTarget(a, 0.7), -1.0f);
  EXPECT_EQ(ThresholdForTarget(a, 0.5), std::nextafter(0.2f, 2.0f));
  // Stepping over a score of 1.0 leaves [-1, 1].
  EXPECT_FALSE(ThresholdForTarget(a, 0.2).has_value());
  EXPECT_FALSE(cal->ThresholdForAllGroups(0.2).has_value());
  // No non-mated searches: nothing to measure.
  EXPECT_FALSE(ThresholdForTarget(GroupScores{}, 0.1).has_value());
}

TEST(CalibrationTest, ScoresARoundingAboveOneAreClampedNotRefused) {
  // A row searched against its own copy scores 1 plus a few ulps.
  const float rounded = std::nextafter(1.0f, 2.0f);
  absl::StatusOr<Calibration> cal =
      Calibration::Build(Meta(), {{"A", rounded}}, {{"A", rounded, 0}});
  ASSERT_TRUE(cal.ok()) << cal.status();
  EXPECT_FALSE(Calibration::Build(Meta(), {{"A", 1.01f}}, {}).ok());
  EXPECT_FALSE(Calibration::Build(Meta(), {}, {{"A", -1.01f, 0}}).ok());
}

TEST(CalibrationTest, RejectsInvalidInput) {
  EXPECT_FALSE(Calibration::Build(Meta(), {{"A", 1.5f}}, {}).ok());
  EXPECT_FALSE(Calibration::Build(Meta(), {{"A", std::nanf("")}}, {}).ok());
  EXPECT_FALSE(Calibration::Build(Meta(), {}, {{"A", -2.0f, 0}}).ok());
  // A missed mate's score is not read.
  EXPECT_TRUE(Calibration::Build(Meta(), {}, {{"A", -2.0f, -1}}).ok());
  CalibrationMeta bad = Meta();
  bad.source = "guess";
  EXPECT_EQ(Calibration::Build(bad, {}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = Meta();
  bad.gallery_size = 0;
  EXPECT_FALSE(Calibration::Build(bad, {}, {}).ok());
  EXPECT_FALSE(Calibration::FromGroups(Meta(), {{"A", {0.5f, 0.1f}, {}}}).ok());
  EXPECT_FALSE(Calibration::FromGroups(Meta(), {{"A", {}, {}}, {"A", {}, {}}}).ok());
}

}  // namespace
}  // namespace candor::telemetry
