// The selection and merge kernels against the CPU reference. Scores are
// copied, not computed, so results must be identical (ids, scores, order).
#include <algorithm>
#include <cstdint>
#include <random>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/select_topk.h"
#include "kernels/select_topk_device.h"
#include "tests/gpu/gpu_test_util.h"

namespace candor::kernels {
namespace {

using candor::testing::GpuTest;
using candor::testing::ToDevice;
using candor::testing::ToHost;

struct Block {
  int64_t probes = 0, cols = 0, ld = 0;
  std::vector<float> scores;
  std::vector<uint64_t> ids;
  std::vector<float> thresholds;
};

// Scores on a grid of `levels` values in [-1, 1] (few levels: many ties),
// shuffled sparse ids, 3% removed columns, per-probe thresholds.
Block MakeBlock(int64_t probes, int64_t cols, int64_t ld, int levels,
                float threshold, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> level(0, levels - 1);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  Block b{probes, cols, ld, {}, {}, {}};
  b.scores.assign(static_cast<size_t>(probes * ld), 0.0f);
  for (int64_t p = 0; p < probes; ++p) {
    for (int64_t c = 0; c < cols; ++c) {
      b.scores[p * ld + c] =
          -1.0f + 2.0f * static_cast<float>(level(rng)) / (levels - 1);
    }
  }
  b.ids.resize(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) b.ids[c] = 11 + 3 * c;
  std::shuffle(b.ids.begin(), b.ids.end(), rng);
  for (auto& id : b.ids) {
    if (unit(rng) < 0.03f) id = kRemovedId;
  }
  for (int64_t p = 0; p < probes; ++p) {
    b.thresholds.push_back(threshold - 0.05f * static_cast<float>(p % 4));
  }
  return b;
}

struct DeviceLists {
  DeviceBuffer<float> scores;
  DeviceBuffer<uint64_t> ids;
  DeviceBuffer<int32_t> counts;
  DeviceTopKLists view() const {
    return {scores.data(), ids.data(), counts.data()};
  }
};

DeviceLists AllocateLists(int64_t probes, int k) {
  DeviceLists l;
  l.scores = *DeviceBuffer<float>::Allocate(probes * k);
  l.ids = *DeviceBuffer<uint64_t>::Allocate(probes * k);
  l.counts = *DeviceBuffer<int32_t>::Allocate(probes);
  return l;
}

std::vector<std::vector<SelectedHit>> ReadLists(const DeviceLists& l,
                                                int64_t probes, int k) {
  const auto scores = *ToHost(l.scores.data(), probes * k);
  const auto ids = *ToHost(l.ids.data(), probes * k);
  const auto counts = *ToHost(l.counts.data(), probes);
  std::vector<std::vector<SelectedHit>> out(probes);
  for (int64_t p = 0; p < probes; ++p) {
    for (int i = 0; i < counts[p]; ++i) {
      out[p].push_back({ids[p * k + i], scores[p * k + i]});
    }
  }
  return out;
}

// (cols, k, threshold, levels, ld padding)
using Params = std::tuple<int64_t, int, float, int, int64_t>;

class SelectTopKGpuTest : public GpuTest,
                          public ::testing::WithParamInterface<Params> {};

TEST_P(SelectTopKGpuTest, OneBlockEqualsReference) {
  const auto [cols, k, threshold, levels, pad] = GetParam();
  const int64_t probes = 6;
  const Block b = MakeBlock(probes, cols, cols + pad, levels, threshold,
                            static_cast<uint32_t>(cols + k));
  const auto want = SelectTopKReference(b.scores.data(), probes, cols, b.ld,
                                        b.ids.data(), b.thresholds.data(), k);
  auto d_scores = ToDevice(b.scores);
  auto d_ids = ToDevice(b.ids);
  auto d_thresholds = ToDevice(b.thresholds);
  ASSERT_TRUE(d_scores.ok() && d_ids.ok() && d_thresholds.ok());
  DeviceLists lists = AllocateLists(probes, k);
  ASSERT_TRUE(SelectTopKDevice(d_scores->data(), probes, cols, b.ld,
                               d_ids->data(), d_thresholds->data(), k,
                               /*merge_into_lists=*/false, lists.view(),
                               nullptr)
                  .ok());
  EXPECT_EQ(ReadLists(lists, probes, k), want);
}

TEST_P(SelectTopKGpuTest, TilesMergedIntoRunningListsEqualWholeReference) {
  const auto [cols, k, threshold, levels, pad] = GetParam();
  const int64_t probes = 4;
  const Block b = MakeBlock(probes, cols, cols + pad, levels, threshold,
                            static_cast<uint32_t>(3 * cols + k));
  const auto want = SelectTopKReference(b.scores.data(), probes, cols, b.ld,
                                        b.ids.data(), b.thresholds.data(), k);
  auto d_scores = ToDevice(b.scores);
  auto d_ids = ToDevice(b.ids);
  auto d_thresholds = ToDevice(b.thresholds);
  ASSERT_TRUE(d_scores.ok() && d_ids.ok() && d_thresholds.ok());
  DeviceLists running = AllocateLists(probes, k);
  DeviceLists part = AllocateLists(probes, k);
  DeviceLists merged = AllocateLists(probes, k);
  const int64_t tile = std::max<int64_t>(1, cols / 4 + 3);
  bool first = true;
  for (int64_t start = 0; start < cols; start += tile) {
    const int64_t width = std::min(tile, cols - start);
    // Fused: the selection merges into the running lists.
    ASSERT_TRUE(SelectTopKDevice(d_scores->data() + start, probes, width, b.ld,
                                 d_ids->data() + start, d_thresholds->data(), k,
                                 !first, running.view(), nullptr)
                    .ok());
    // Separate: the tile's own top-k, then MergeTopKDevice.
    ASSERT_TRUE(SelectTopKDevice(d_scores->data() + start, probes, width, b.ld,
                                 d_ids->data() + start, d_thresholds->data(), k,
                                 false, part.view(), nullptr)
                    .ok());
    if (first) {
      ASSERT_EQ(cudaMemcpy(merged.scores.data(), part.scores.data(),
                           part.scores.bytes(), cudaMemcpyDeviceToDevice),
                cudaSuccess);
      ASSERT_EQ(cudaMemcpy(merged.ids.data(), part.ids.data(), part.ids.bytes(),
                           cudaMemcpyDeviceToDevice),
                cudaSuccess);
      ASSERT_EQ(cudaMemcpy(merged.counts.data(), part.counts.data(),
                           part.counts.bytes(), cudaMemcpyDeviceToDevice),
                cudaSuccess);
    } else {
      // In place: out aliases a.
      ASSERT_TRUE(MergeTopKDevice(merged.view(), part.view(), probes, k,
                                  merged.view(), nullptr)
                      .ok());
    }
    first = false;
  }
  EXPECT_EQ(ReadLists(running, probes, k), want);
  EXPECT_EQ(ReadLists(merged, probes, k), want);
}

INSTANTIATE_TEST_SUITE_P(
    Sweep, SelectTopKGpuTest,
    ::testing::Combine(::testing::Values<int64_t>(1, 100, 1500, 20000),
                       ::testing::Values(1, 10, 100, kMaxTopK),
                       ::testing::Values(-2.0f, 0.0f, 0.6f),
                       ::testing::Values(7, 100000),
                       // 0: 16-byte loads; 1: scalar path (odd row stride)
                       ::testing::Values<int64_t>(0, 1)));

// (cols, k, splits)
using SplitParams = std::tuple<int64_t, int, int>;

class SelectTopKSplitGpuTest
    : public GpuTest,
      public ::testing::WithParamInterface<SplitParams> {};

TEST_P(SelectTopKSplitGpuTest, TwoTilesThroughSplitsEqualWholeReference) {
  const auto [cols, k, splits] = GetParam();
  const int64_t probes = 3;
  // Few levels: ties straddle the slice boundaries.
  const Block b = MakeBlock(probes, cols, cols, 9, 0.0f,
                            static_cast<uint32_t>(cols + 7 * k + splits));
  const auto want = SelectTopKReference(b.scores.data(), probes, cols, b.ld,
                                        b.ids.data(), b.thresholds.data(), k);
  auto d_scores = ToDevice(b.scores);
  auto d_ids = ToDevice(b.ids);
  auto d_thresholds = ToDevice(b.thresholds);
  ASSERT_TRUE(d_scores.ok() && d_ids.ok() && d_thresholds.ok());
  DeviceLists partial = AllocateLists(probes * splits, k);
  DeviceLists running = AllocateLists(probes, k);
  // Two tiles (the first half and the rest), the second merged.
  const int64_t half = cols / 2;
  const int64_t starts[2] = {0, half};
  const int64_t widths[2] = {half, cols - half};
  for (int t = 0; t < 2; ++t) {
    ASSERT_TRUE(SelectTopKSplitDevice(
                    d_scores->data() + starts[t], probes, widths[t], b.ld,
                    d_ids->data() + starts[t], d_thresholds->data(), k, splits,
                    partial.view(), /*merge_into_lists=*/t > 0, running.view(),
                    nullptr)
                    .ok());
  }
  EXPECT_EQ(ReadLists(running, probes, k), want);
}

INSTANTIATE_TEST_SUITE_P(Sweep, SelectTopKSplitGpuTest,
                         ::testing::Combine(::testing::Values<int64_t>(2, 1500,
                                                                       40000),
                                            ::testing::Values(1, 10, kMaxTopK),
                                            ::testing::Values(2, 5, 64)));

// (k, second tile: 0 appends nothing, 1 beats the whole list and forces a
// sort during the scan, skip_unchanged_sort)
using SkipParams = std::tuple<int, int, bool>;

class SelectTopKSkipSortGpuTest
    : public GpuTest,
      public ::testing::WithParamInterface<SkipParams> {};

// A second tile that appends nothing leaves the lists as they were (the
// skipped sort); one whose candidates pass through an in-scan sort and end
// with as many entries as before must still be written back. Either way the
// lists equal the reference over both tiles, with the skip on or off.
TEST_P(SelectTopKSkipSortGpuTest, SecondTileEqualsWholeReference) {
  const auto [k, second, skip] = GetParam();
  const int64_t probes = 3, first_cols = 2000, second_cols = 5000;
  const int64_t cols = first_cols + second_cols;
  std::mt19937 rng(static_cast<uint32_t>(k + 17 * second));
  std::uniform_real_distribution<float> first_scores(0.5f, 1.0f);
  std::uniform_real_distribution<float> better(1.0f, 2.0f);
  Block b{probes, cols, cols, {}, {}, {}};
  b.scores.resize(static_cast<size_t>(probes * cols));
  for (int64_t p = 0; p < probes; ++p) {
    for (int64_t c = 0; c < cols; ++c) {
      b.scores[p * cols + c] = c < first_cols ? first_scores(rng)
                               : second == 0  ? 0.0f
                                              : better(rng);
    }
  }
  for (int64_t c = 0; c < cols; ++c) b.ids.push_back(5 + 2 * c);
  b.thresholds.assign(probes, 0.2f);
  const auto want = SelectTopKReference(b.scores.data(), probes, cols, cols,
                                        b.ids.data(), b.thresholds.data(), k);
  auto d_scores = ToDevice(b.scores);
  auto d_ids = ToDevice(b.ids);
  auto d_thresholds = ToDevice(b.thresholds);
  ASSERT_TRUE(d_scores.ok() && d_ids.ok() && d_thresholds.ok());
  DeviceLists running = AllocateLists(probes, k);
  SelectTuning tuning;
  tuning.skip_unchanged_sort = skip;
  ASSERT_TRUE(SelectTopKDevice(d_scores->data(), probes, first_cols, cols,
                               d_ids->data(), d_thresholds->data(), k, false,
                               running.view(), nullptr, tuning)
                  .ok());
  const auto after_first = ReadLists(running, probes, k);
  ASSERT_TRUE(SelectTopKDevice(d_scores->data() + first_cols, probes,
                               second_cols, cols, d_ids->data() + first_cols,
                               d_thresholds->data(), k, true, running.view(),
                               nullptr, tuning)
                  .ok());
  const auto got = ReadLists(running, probes, k);
  EXPECT_EQ(got, want);
  if (second == 0) {
    EXPECT_EQ(got, after_first);
  } else {
    EXPECT_NE(got, after_first);
  }
}

INSTANTIATE_TEST_SUITE_P(Sweep, SelectTopKSkipSortGpuTest,
                         ::testing::Combine(::testing::Values(1, 10, kMaxTopK),
                                            ::testing::Values(0, 1),
                                            ::testing::Bool()));

TEST(SelectTopKDeviceArguments, KOutOfRangeIsInvalidArgumentWithoutADevice) {
  for (int k : {0, -3, kMaxTopK + 1}) {
    EXPECT_EQ(SelectTopKDevice(nullptr, 1, 1, 1, nullptr, nullptr, k, false, {},
                               nullptr)
                  .code(),
              absl::StatusCode::kInvalidArgument)
        << k;
    EXPECT_EQ(MergeTopKDevice({}, {}, 1, k, {}, nullptr).code(),
              absl::StatusCode::kInvalidArgument)
        << k;
  }
  EXPECT_EQ(SelectTopKDevice(nullptr, 1, 8, 4, nullptr, nullptr, 10, false, {},
                             nullptr)
                .code(),
            absl::StatusCode::kInvalidArgument);  // ld < cols
  for (int splits : {0, kMaxSelectSplits + 1}) {
    EXPECT_EQ(SelectTopKSplitDevice(nullptr, 1, 8, 8, nullptr, nullptr, 10,
                                    splits, {}, false, {}, nullptr)
                  .code(),
              absl::StatusCode::kInvalidArgument)
        << splits;
  }
}

}  // namespace
}  // namespace candor::kernels
