// The score-tile arithmetic of the fused GPU search.
#include "kernels/tile_sizing.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace candor::kernels {
namespace {

constexpr int64_t kH100L2Bytes = 50 * 1000 * 1000;

TEST(ScoreTileBudgetBytes, IsEightyPercentOfL2) {
  EXPECT_EQ(ScoreTileBudgetBytes(kH100L2Bytes), 40 * 1000 * 1000);
}

TEST(ScoreTileCols, BudgetOverFourBytesPerProbeRoundedDownTo128) {
  const int64_t budget = ScoreTileBudgetBytes(kH100L2Bytes);
  // 40e6 / (4 * 1024) = 9765.6 -> 9728 = 76 * 128.
  EXPECT_EQ(ScoreTileCols(10'000'000, 1024, budget), 9728);
  // 40e6 / (4 * 4096) = 2441.4 -> 2432.
  EXPECT_EQ(ScoreTileCols(10'000'000, 4096, budget), 2432);
  // One probe: 10e6 columns fit the budget exactly.
  EXPECT_EQ(ScoreTileCols(10'000'000, 1, budget), 10'000'000);
  for (int64_t probes : {1, 3, 64, 1000, 1024, 4096}) {
    const int64_t cols = ScoreTileCols(100'000'000, probes, budget);
    EXPECT_EQ(cols % kTileColsMultiple, 0) << probes;
    EXPECT_LE(cols * 4 * probes, budget) << probes;
  }
}

TEST(ScoreTileCols, SmallGalleryIsOneTile) {
  EXPECT_EQ(ScoreTileCols(1000, 64, 40'000'000), 1000);
  EXPECT_EQ(ScoreTileCols(5, 1, 40'000'000), 5);
  EXPECT_EQ(ScoreTileCols(0, 64, 40'000'000), 0);
}

TEST(ScoreTileCols, HugeBatchStillGetsOneMultiple) {
  // 40e6 / (4 * 200'000) = 50 columns: clamped up to 128.
  EXPECT_EQ(ScoreTileCols(1'000'000, 200'000, 40'000'000), kTileColsMultiple);
}

TEST(NumScoreTiles, CoversTheGallery) {
  EXPECT_EQ(NumScoreTiles(10'000'000, 9728), 1028);
  EXPECT_EQ(NumScoreTiles(9728, 9728), 1);
  EXPECT_EQ(NumScoreTiles(9729, 9728), 2);
  EXPECT_EQ(NumScoreTiles(0, 128), 0);
}

TEST(SelectionSplits, FillsTheDeviceAtSmallBatches) {
  // H100: 132 SMs, 4 blocks each as the target.
  const int64_t target = 4 * 132;
  // Batch 1 over a 10M-column tile: 528 slices of ~19k columns.
  EXPECT_EQ(SelectionSplits(1, 10'000'000, target, 4096, 4096), 528);
  // Batch 64: ceil(528 / 64) = 9.
  EXPECT_EQ(SelectionSplits(64, 600'000, target, 4096, 4096), 9);
  // Large batches fill the device alone.
  EXPECT_EQ(SelectionSplits(1024, 9728, target, 4096, 4096), 1);
  // Narrow tiles are not split below the minimum width.
  EXPECT_EQ(SelectionSplits(1, 10'000, target, 4096, 4096), 2);
  EXPECT_EQ(SelectionSplits(1, 100, target, 4096, 4096), 1);
  // The cap holds.
  EXPECT_EQ(SelectionSplits(1, 100'000'000, 100'000, 1, 4096), 4096);
  EXPECT_EQ(SelectionSplits(0, 100, target, 1, 4096), 1);
}

}  // namespace
}  // namespace candor::kernels
