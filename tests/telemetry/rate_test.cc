#include "server/telemetry/rate.h"

#include <cmath>
#include <tuple>

#include "gtest/gtest.h"

namespace candor::telemetry {
namespace {

TEST(MakeRateTest, NoSearchesIsNoData) {
  const Rate r = MakeRate(0, 0);
  EXPECT_EQ(r.searches, 0u);
  EXPECT_EQ(r.rate, 0.0);
  EXPECT_EQ(r.ci_low, 0.0);
  EXPECT_EQ(r.ci_high, 1.0);
  EXPECT_FALSE(r.estimated);
}

// Published Wilson 95% intervals (e.g. Newcombe 1998, table I method 3,
// gives 0/10 -> 0 to 0.2775; 5/10 -> 0.2366 to 0.7634).
TEST(MakeRateTest, MatchesPublishedWilsonIntervals) {
  Rate r = MakeRate(0, 10);
  EXPECT_EQ(r.rate, 0.0);
  EXPECT_EQ(r.ci_low, 0.0);
  EXPECT_NEAR(r.ci_high, 0.2775328, 1e-6);
  r = MakeRate(5, 10);
  EXPECT_EQ(r.rate, 0.5);
  EXPECT_NEAR(r.ci_low, 0.2365931, 1e-6);
  EXPECT_NEAR(r.ci_high, 0.7634069, 1e-6);
  r = MakeRate(10, 10);
  EXPECT_NEAR(r.ci_low, 1.0 - 0.2775328, 1e-6);
  EXPECT_EQ(r.ci_high, 1.0);
}

// The Wilson bounds are the two roots p of n (phat - p)^2 = z^2 p (1 - p):
// checked from that defining equation, not from the closed form.
class WilsonRootTest
    : public ::testing::TestWithParam<std::tuple<uint64_t, uint64_t>> {};

TEST_P(WilsonRootTest, BoundsSolveTheScoreEquation) {
  const auto [errors, searches] = GetParam();
  const Rate r = MakeRate(errors, searches);
  const double n = static_cast<double>(searches);
  const double phat = static_cast<double>(errors) / n;
  EXPECT_DOUBLE_EQ(r.rate, phat);
  for (double p : {r.ci_low, r.ci_high}) {
    const double lhs = n * (phat - p) * (phat - p);
    const double rhs = 1.959963984540054 * 1.959963984540054 * p * (1.0 - p);
    EXPECT_NEAR(lhs, rhs, 1e-9 * std::max(1.0, rhs)) << "bound " << p;
  }
  EXPECT_LT(r.ci_low, phat);
  EXPECT_GT(r.ci_high, phat);
}

INSTANTIATE_TEST_SUITE_P(
    Counts, WilsonRootTest,
    ::testing::Values(std::make_tuple(1, 40), std::make_tuple(40, 40000),
                      std::make_tuple(5, 10), std::make_tuple(12, 975),
                      std::make_tuple(999, 1000)));

TEST(MakeRateTest, SmallSampleIntervalIsWiderThanLargeSample) {
  const Rate small = MakeRate(1, 40);
  const Rate large = MakeRate(1000, 40000);
  EXPECT_DOUBLE_EQ(small.rate, large.rate);
  EXPECT_GT(small.ci_high - small.ci_low, 5 * (large.ci_high - large.ci_low));
}

TEST(ExtrapolateFpirTest, AppliesPowerLawToRateAndBounds) {
  const Rate measured = MakeRate(12, 975);
  const Rate grown = ExtrapolateFpir(measured, 2.5);
  EXPECT_TRUE(grown.estimated);
  EXPECT_EQ(grown.errors, 12u);
  EXPECT_EQ(grown.searches, 975u);
  EXPECT_NEAR(grown.rate, 1 - std::pow(1 - measured.rate, 2.5), 1e-15);
  EXPECT_NEAR(grown.ci_low, 1 - std::pow(1 - measured.ci_low, 2.5), 1e-15);
  EXPECT_NEAR(grown.ci_high, 1 - std::pow(1 - measured.ci_high, 2.5), 1e-15);
  // The same size leaves the figures as they were.
  const Rate same = ExtrapolateFpir(measured, 1.0);
  EXPECT_NEAR(same.rate, measured.rate, 1e-15);
}

}  // namespace
}  // namespace candor::telemetry
