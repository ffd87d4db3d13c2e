#include "bench/load/latency_stats.h"

#include <vector>

#include "gtest/gtest.h"

namespace candor::load {
namespace {

TEST(NearestRank, PicksTheSmallestValueCoveringTheQuantile) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  EXPECT_EQ(NearestRank(v, 0.50), 50);
  EXPECT_EQ(NearestRank(v, 0.95), 95);
  EXPECT_EQ(NearestRank(v, 0.99), 99);
  EXPECT_EQ(NearestRank(v, 1.0), 100);
  EXPECT_EQ(NearestRank({7.0}, 0.5), 7.0);
  EXPECT_EQ(NearestRank({1, 2, 3}, 0.5), 2);
}

TEST(LatencyRecorder, SummarizesSuccessesAndCountsErrorsByCode) {
  LatencyRecorder recorder;
  for (int i = 1; i <= 10; ++i) recorder.Record(absl::Milliseconds(i), 0);
  recorder.Record(absl::Milliseconds(500), 14);  // UNAVAILABLE
  recorder.Record(absl::Milliseconds(500), 14);
  recorder.Record(absl::Seconds(10), 4);  // DEADLINE_EXCEEDED
  EXPECT_EQ(recorder.completed(), 13);
  EXPECT_EQ(recorder.failed(), 3);
  const LatencySummary s = recorder.Summarize();
  EXPECT_EQ(s.ok, 10);
  EXPECT_DOUBLE_EQ(s.p50_us, 5000);
  EXPECT_DOUBLE_EQ(s.p95_us, 10000);
  EXPECT_DOUBLE_EQ(s.max_us, 10000);
  EXPECT_DOUBLE_EQ(s.mean_us, 5500);
  ASSERT_EQ(s.errors.size(), 2u);
  EXPECT_EQ(s.errors.at("UNAVAILABLE"), 2);
  EXPECT_EQ(s.errors.at("DEADLINE_EXCEEDED"), 1);
}

TEST(LatencyRecorder, EmptyRunHasZeroLatency) {
  const LatencySummary s = LatencyRecorder().Summarize();
  EXPECT_EQ(s.ok, 0);
  EXPECT_EQ(s.p99_us, 0);
  EXPECT_TRUE(s.errors.empty());
}

}  // namespace
}  // namespace candor::load
