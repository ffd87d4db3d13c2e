#include "server/telemetry/fairness.h"

#include "gtest/gtest.h"

namespace candor::telemetry {
namespace {

GroupRate G(const char* name, uint64_t errors, uint64_t searches) {
  return {name, MakeRate(errors, searches)};
}

TEST(DisparityTest, MaxOverMinOfMeasuredGroups) {
  // Rates 0.02, 0.005, 0.01; group D has no searches and is skipped.
  const Disparity d = ComputeDisparity(
      {G("A", 20, 1000), G("B", 5, 1000), G("C", 10, 1000), G("D", 0, 0)});
  ASSERT_TRUE(d.defined);
  EXPECT_DOUBLE_EQ(d.ratio, 4.0);
  EXPECT_EQ(d.max_group, "A");
  EXPECT_EQ(d.min_group, "B");
  EXPECT_EQ(d.max_rate.errors, 20u);
  EXPECT_EQ(d.min_rate.errors, 5u);
}

TEST(DisparityTest, UndefinedWhenMinIsZeroButGroupsNamed) {
  const Disparity d = ComputeDisparity({G("A", 3, 100), G("B", 0, 400)});
  EXPECT_FALSE(d.defined);
  EXPECT_EQ(d.max_group, "A");
  EXPECT_EQ(d.min_group, "B");
  EXPECT_EQ(d.min_rate.searches, 400u);
}

TEST(DisparityTest, UndefinedWithOneGroup) {
  const Disparity d = ComputeDisparity({G("A", 3, 100), G("B", 0, 0)});
  EXPECT_FALSE(d.defined);
  EXPECT_EQ(d.max_group, "A");
  EXPECT_FALSE(ComputeDisparity({}).defined);
}

TEST(GiniTest, HandComputedValues) {
  // x = {1, 3}: sum|xi-xj| = 4, mean 2, G = 2 -> 2/1 * 4 / (2*4*2) = 0.5.
  EXPECT_DOUBLE_EQ(*Gini({1, 3}), 0.5);
  // x = {0, 0, 3}: sum|xi-xj| = 12, mean 1, G = 3 -> 3/2 * 12 / 18 = 1.
  EXPECT_DOUBLE_EQ(*Gini({0, 0, 3}), 1.0);
  // Equal rates: no inequality.
  EXPECT_DOUBLE_EQ(*Gini({0.2, 0.2, 0.2, 0.2}), 0.0);
  // x = {1, 2, 3, 4}: sum|xi-xj| = 20, mean 2.5, G = 4
  //   -> 4/3 * 20 / (2*16*2.5) = 1/3.
  EXPECT_DOUBLE_EQ(*Gini({1, 2, 3, 4}), 1.0 / 3.0);
}

TEST(GiniTest, ZeroMeanIsZeroAndFewGroupsUndefined) {
  EXPECT_EQ(*Gini({0, 0, 0}), 0.0);
  EXPECT_FALSE(Gini({0.5}).has_value());
  EXPECT_FALSE(Gini({}).has_value());
}

TEST(GarbeTest, WeightsTheTwoGinis) {
  // FPIR {0.01, 0.03} -> Gini 0.5; FNIR {0.1, 0.2, 0.3, 0.4} -> Gini 1/3.
  const std::vector<GroupRate> fpir = {G("A", 1, 100), G("B", 3, 100)};
  const std::vector<GroupRate> fnir = {G("A", 1, 10), G("B", 2, 10),
                                       G("C", 3, 10), G("D", 4, 10)};
  EXPECT_DOUBLE_EQ(*Garbe(fpir, fnir), 0.5 * 0.5 + 0.5 / 3.0);
  EXPECT_DOUBLE_EQ(*Garbe(fpir, fnir, 1.0), 0.5);
  EXPECT_DOUBLE_EQ(*Garbe(fpir, fnir, 0.0), 1.0 / 3.0);
}

TEST(GarbeTest, UndefinedWithoutTwoMeasuredGroupsOfEachKind) {
  const std::vector<GroupRate> fpir = {G("A", 1, 100), G("B", 3, 100)};
  const std::vector<GroupRate> fnir = {G("A", 1, 10), G("B", 0, 0)};
  EXPECT_FALSE(Garbe(fpir, fnir).has_value());
  // Zero rates everywhere are defined and equal: GARBE 0, not NaN.
  const std::vector<GroupRate> zeros = {G("A", 0, 10), G("B", 0, 10)};
  EXPECT_EQ(*Garbe(zeros, zeros), 0.0);
}

}  // namespace
}  // namespace candor::telemetry
