// The selection and merge CPU references against a brute-force full sort.
// These are the oracle of the GPU kernels, so they are checked first, here,
// on every CI run.
#include "kernels/select_topk.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"

namespace candor::kernels {
namespace {

// Brute force: every candidate, fully sorted, cut to k.
std::vector<SelectedHit> BruteForce(const float* row, int64_t cols,
                                    const uint64_t* ids, float threshold,
                                    int k) {
  std::vector<SelectedHit> all;
  for (int64_t c = 0; c < cols; ++c) {
    if (ids[c] != kRemovedId && row[c] >= threshold) {
      all.push_back({ids[c], row[c]});
    }
  }
  std::sort(all.begin(), all.end(), BetterHit);
  if (static_cast<int>(all.size()) > k) all.resize(static_cast<size_t>(k));
  return all;
}

// Scores quantized to a coarse grid so that ties are frequent and the id
// order among equal scores is exercised; some columns removed.
struct Block {
  std::vector<float> scores;
  std::vector<uint64_t> ids;
  std::vector<float> thresholds;
};

Block MakeBlock(int64_t probes, int64_t cols, int64_t ld, int levels,
                float threshold, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> level(0, levels - 1);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  Block b;
  b.scores.assign(static_cast<size_t>(probes * ld), -5.0f);
  for (int64_t p = 0; p < probes; ++p) {
    for (int64_t c = 0; c < cols; ++c) {
      b.scores[p * ld + c] =
          -1.0f + 2.0f * static_cast<float>(level(rng)) / (levels - 1);
    }
  }
  // Ids: a shuffled, sparse set so that id order differs from column order.
  b.ids.resize(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) b.ids[c] = 1000 + 7 * c;
  std::shuffle(b.ids.begin(), b.ids.end(), rng);
  for (auto& id : b.ids) {
    if (unit(rng) < 0.05f) id = kRemovedId;
  }
  b.thresholds.resize(static_cast<size_t>(probes));
  for (int64_t p = 0; p < probes; ++p) {
    // Per-probe thresholds around the requested one.
    b.thresholds[p] = threshold + 0.1f * static_cast<float>(p % 3) - 0.1f;
  }
  return b;
}

// (cols, k, threshold, tie levels)
using Params = std::tuple<int64_t, int, float, int>;

class SelectTopKReferenceTest : public ::testing::TestWithParam<Params> {};

TEST_P(SelectTopKReferenceTest, EqualsBruteForceSort) {
  const auto [cols, k, threshold, levels] = GetParam();
  const int64_t probes = 5;
  const int64_t ld = cols + 3;  // a row stride wider than the row
  const Block b = MakeBlock(probes, cols, ld, levels, threshold,
                            static_cast<uint32_t>(cols * 31 + k));
  const auto got = SelectTopKReference(b.scores.data(), probes, cols, ld,
                                       b.ids.data(), b.thresholds.data(), k);
  ASSERT_EQ(got.size(), static_cast<size_t>(probes));
  for (int64_t p = 0; p < probes; ++p) {
    EXPECT_EQ(got[p], BruteForce(b.scores.data() + p * ld, cols, b.ids.data(),
                                 b.thresholds[p], k))
        << "probe " << p;
  }
}

TEST_P(SelectTopKReferenceTest, MergeOfTilesEqualsWholeSelection) {
  const auto [cols, k, threshold, levels] = GetParam();
  const int64_t probes = 3;
  const Block b = MakeBlock(probes, cols, cols, levels, threshold,
                            static_cast<uint32_t>(cols * 17 + k));
  const auto whole = SelectTopKReference(b.scores.data(), probes, cols, cols,
                                         b.ids.data(), b.thresholds.data(), k);
  // Tiles of uneven width, merged left to right as the GPU search does.
  const int64_t tile = std::max<int64_t>(1, cols / 3 + 1);
  std::vector<std::vector<SelectedHit>> running(probes);
  for (int64_t start = 0; start < cols; start += tile) {
    const int64_t width = std::min(tile, cols - start);
    const auto part =
        SelectTopKReference(b.scores.data() + start, probes, width, cols,
                            b.ids.data() + start, b.thresholds.data(), k);
    for (int64_t p = 0; p < probes; ++p) {
      running[p] = MergeTopKReference(running[p], part[p], k);
    }
  }
  EXPECT_EQ(running, whole);
}

INSTANTIATE_TEST_SUITE_P(
    Sweep, SelectTopKReferenceTest,
    ::testing::Combine(::testing::Values<int64_t>(1, 7, 128, 1000, 5000),
                       ::testing::Values(1, 10, 100, kMaxTopK),
                       ::testing::Values(-2.0f, 0.0f, 0.5f, 2.0f),
                       ::testing::Values(5, 1000)));

TEST(SelectTopKReference, NegativeZeroTiesWithZeroByIdOrder) {
  const std::vector<float> scores = {0.0f, -0.0f, 0.0f};
  const std::vector<uint64_t> ids = {9, 3, 5};
  const float threshold = 0.0f;
  const auto got =
      SelectTopKReference(scores.data(), 1, 3, 3, ids.data(), &threshold, 3);
  ASSERT_EQ(got[0].size(), 3u);
  EXPECT_EQ(got[0][0].id, 3u);
  EXPECT_EQ(got[0][1].id, 5u);
  EXPECT_EQ(got[0][2].id, 9u);
}

TEST(SelectTopKReference, RemovedColumnsAndBelowThresholdAreSkipped) {
  const std::vector<float> scores = {0.9f, 0.8f, 0.95f, 0.1f};
  const std::vector<uint64_t> ids = {1, 2, kRemovedId, 4};
  const float threshold = 0.5f;
  const auto got =
      SelectTopKReference(scores.data(), 1, 4, 4, ids.data(), &threshold, 10);
  const std::vector<SelectedHit> want = {{1, 0.9f}, {2, 0.8f}};
  EXPECT_EQ(got[0], want);
}

TEST(MergeTopKReference, KeepsBestKAcrossBothLists) {
  const std::vector<SelectedHit> a = {{4, 0.9f}, {2, 0.5f}, {8, 0.5f}};
  const std::vector<SelectedHit> b = {{1, 0.7f}, {3, 0.5f}};
  const std::vector<SelectedHit> want = {
      {4, 0.9f}, {1, 0.7f}, {2, 0.5f}, {3, 0.5f}};
  EXPECT_EQ(MergeTopKReference(a, b, 4), want);
  EXPECT_TRUE(MergeTopKReference({}, {}, 4).empty());
}

TEST(ValidateTopK, AcceptsOneToMaxOnly) {
  EXPECT_TRUE(ValidateTopK(1).ok());
  EXPECT_TRUE(ValidateTopK(kMaxTopK).ok());
  EXPECT_EQ(ValidateTopK(0).code(), absl::StatusCode::kInvalidArgument);
  const absl::Status too_big = ValidateTopK(kMaxTopK + 1);
  EXPECT_EQ(too_big.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_big.message().find("1025"), std::string::npos) << too_big;
}

}  // namespace
}  // namespace candor::kernels
