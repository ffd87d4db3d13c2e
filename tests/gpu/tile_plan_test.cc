// The L2 sizing of the fused search's tiles, against the device properties
// of an H100 SXM and an H200 given as data (what cudaGetDeviceProperties
// reports as l2CacheSize and multiProcessorCount). No GPU needed.
#include <cstdint>

#include "gtest/gtest.h"
#include "kernels/tile_sizing.h"

namespace candor::kernels {
namespace {

constexpr DeviceL2Properties kH100Sxm{50 * 1024 * 1024, 132};
constexpr DeviceL2Properties kH200{60 * 1024 * 1024, 132};

// 10M x 512 in fp16, as the benchmark searches it.
TileShape Shape(int64_t probes, int k = 10) {
  TileShape shape;
  shape.gallery_rows = 10'000'000;
  shape.probes = probes;
  shape.gallery_row_bytes = 512 * 2;
  shape.probe_row_bytes = 512 * 2;
  shape.k = k;
  return shape;
}

TEST(PipelineL2Bytes, CountsBothScoreBlocksTheGalleryTileAndTheProbes) {
  // 2 * 128 * 1024 * 4 + 128 * 1024 + 1024 * 1024.
  EXPECT_EQ(PipelineL2Bytes(128, Shape(1024)), 1'048'576 + 131'072 + 1'048'576);
  EXPECT_EQ(PipelineL2Bytes(0, Shape(1)), 1024);
  // Up to one GEMM tile of probes the gallery tile only streams through.
  EXPECT_EQ(PipelineL2Bytes(128, Shape(256)), 2 * 128 * 256 * 4 + 256 * 1024);
  EXPECT_EQ(PipelineL2Bytes(128, Shape(257)),
            2 * 128 * 257 * 4 + 128 * 1024 + 257 * 1024);
}

TEST(PlanScoreTiles, TheLiveSetFitsTheL2OfBothDevices) {
  for (const DeviceL2Properties& device : {kH100Sxm, kH200}) {
    for (int64_t probes : {1, 64, 1024, 4096}) {
      for (double fraction : {0.8, 0.35, 0.15}) {
        const ScoreTilePlan plan =
            PlanScoreTiles(device, Shape(probes), fraction);
        SCOPED_TRACE(testing::Message()
                     << "L2 " << device.l2_cache_bytes << " probes " << probes
                     << " fraction " << fraction);
        EXPECT_EQ(plan.l2_cache_bytes, device.l2_cache_bytes);
        EXPECT_EQ(plan.tile_cols % kTileColsMultiple, 0);
        if (PipelineL2Bytes(kTileColsMultiple, Shape(probes)) >
            plan.budget_bytes) {
          // Not even the narrowest tile fits (4096 probes in 15%): the
          // narrowest it is.
          EXPECT_EQ(plan.tile_cols, kTileColsMultiple);
          continue;
        }
        EXPECT_LE(plan.live_bytes, plan.budget_bytes);
        EXPECT_LE(plan.live_bytes, device.l2_cache_bytes * fraction);
        // The widest that fits: one more multiple would not.
        EXPECT_GT(
            PipelineL2Bytes(plan.tile_cols + kTileColsMultiple, Shape(probes)),
            plan.budget_bytes);
        EXPECT_EQ(plan.num_tiles,
                  (10'000'000 + plan.tile_cols - 1) / plan.tile_cols);
      }
    }
  }
}

TEST(PlanScoreTiles, BatchOf1024OnBothDevices) {
  // H100: 0.8 * 50 MiB = 41,943,040 bytes; minus the 1 MiB of probes,
  // over 9,216 bytes a column (two 4 KiB score columns + a 1 KiB row):
  // 4437.3 -> 4352 columns.
  const ScoreTilePlan h100 = PlanScoreTiles(kH100Sxm, Shape(1024), 0.8);
  EXPECT_EQ(h100.budget_bytes, 41'943'040);
  EXPECT_EQ(h100.tile_cols, 4352);
  EXPECT_EQ(h100.num_tiles, 2298);
  EXPECT_EQ(h100.splits, 1);
  // H200: 0.8 * 60 MiB = 50,331,648; (50,331,648 - 1,048,576) / 9,216 =
  // 5347.6 -> 5248.
  const ScoreTilePlan h200 = PlanScoreTiles(kH200, Shape(1024), 0.8);
  EXPECT_EQ(h200.tile_cols, 5248);
  EXPECT_EQ(h200.num_tiles, 1906);
}

TEST(PlanScoreTiles, OneScoreBlockAtTheOldBudgetWouldSpill) {
  // The sizing this replaces gave one score block 0.8 * L2; the pipeline
  // keeps two of them and a gallery tile live, well past the L2.
  for (const DeviceL2Properties& device : {kH100Sxm, kH200}) {
    const int64_t old_cols = ScoreTileCols(
        10'000'000, 1024, ScoreTileBudgetBytes(device.l2_cache_bytes));
    EXPECT_GT(PipelineL2Bytes(old_cols, Shape(1024)), device.l2_cache_bytes);
    EXPECT_LE(PlanScoreTiles(device, Shape(1024), 0.8).live_bytes,
              device.l2_cache_bytes);
  }
}

TEST(PlanScoreTiles, BatchOneSplitsToFillTheDevice) {
  // One probe: (50,331,648 - 1,024) / 8 = 6,291,328 columns, two tiles, and
  // each tile's columns split over 4 blocks per SM.
  const ScoreTilePlan plan = PlanScoreTiles(kH200, Shape(1), 0.8);
  EXPECT_EQ(plan.tile_cols, 6'291'328);
  EXPECT_EQ(plan.num_tiles, 2);
  EXPECT_EQ(plan.splits, 4 * 132);
  // k bounds the second stage: 32768 / 1000 = 32 splits at most.
  EXPECT_LE(PlanScoreTiles(kH200, Shape(1, 1000), 0.8).splits, 32);
}

TEST(PlanScoreTiles, OverrideSizesOneScoreBlockAsBefore) {
  const ScoreTilePlan plan =
      PlanScoreTiles(kH200, Shape(64), 0.8, /*score_block_bytes_override=*/
                     64 * 4 * 256);
  EXPECT_EQ(plan.tile_cols, 256);
  EXPECT_EQ(plan.budget_bytes, 64 * 4 * 256);
}

TEST(PlanScoreTiles, EmptyAndSmallGalleries) {
  TileShape shape = Shape(64);
  shape.gallery_rows = 0;
  EXPECT_EQ(PlanScoreTiles(kH200, shape, 0.8).tile_cols, 0);
  EXPECT_EQ(PlanScoreTiles(kH200, shape, 0.8).num_tiles, 0);
  shape.gallery_rows = 1000;
  EXPECT_EQ(PlanScoreTiles(kH200, shape, 0.8).tile_cols, 1000);
  EXPECT_EQ(PlanScoreTiles(kH200, shape, 0.8).num_tiles, 1);
}

}  // namespace
}  // namespace candor::kernels
