// Score-tile arithmetic (see tile_sizing.h).
#include "kernels/tile_sizing.h"

#include <algorithm>

#include "kernels/select_topk_device.h"

namespace candor::kernels {

int64_t ScoreTileBudgetBytes(int64_t l2_cache_bytes) {
  return static_cast<int64_t>(static_cast<double>(l2_cache_bytes) *
                              kScoreTileL2Fraction);
}

int64_t ScoreTileCols(int64_t gallery_rows, int64_t probes,
                      int64_t score_budget_bytes) {
  if (gallery_rows <= 0) return 0;
  const int64_t bytes_per_col =
      static_cast<int64_t>(sizeof(float)) * std::max<int64_t>(probes, 1);
  int64_t cols = score_budget_bytes / bytes_per_col;
  cols = cols / kTileColsMultiple * kTileColsMultiple;
  cols = std::max(cols, kTileColsMultiple);
  return std::min(cols, gallery_rows);
}

int64_t NumScoreTiles(int64_t gallery_rows, int64_t tile_cols) {
  if (gallery_rows <= 0 || tile_cols <= 0) return 0;
  return (gallery_rows + tile_cols - 1) / tile_cols;
}

int SelectionSplits(int64_t probes, int64_t tile_cols, int64_t target_blocks,
                    int64_t min_cols_per_block, int max_splits) {
  if (probes < 1 || tile_cols < 1) return 1;
  const int64_t wanted = (target_blocks + probes - 1) / probes;
  const int64_t by_width = tile_cols / std::max<int64_t>(min_cols_per_block, 1);
  const int64_t splits =
      std::min({wanted, by_width, static_cast<int64_t>(max_splits)});
  return static_cast<int>(std::max<int64_t>(splits, 1));
}

int64_t PipelineL2Bytes(int64_t cols, const TileShape& shape) {
  const int64_t probes = std::max<int64_t>(shape.probes, 1);
  const int64_t gallery_tile =
      probes > kGemmSinglePassProbes ? cols * shape.gallery_row_bytes : 0;
  return 2 * cols * probes * static_cast<int64_t>(sizeof(float)) +
         gallery_tile + probes * shape.probe_row_bytes;
}

ScoreTilePlan PlanScoreTiles(const DeviceL2Properties& device,
                             const TileShape& shape, double l2_fraction,
                             int64_t score_block_bytes_override) {
  ScoreTilePlan plan;
  plan.l2_cache_bytes = device.l2_cache_bytes;
  if (shape.gallery_rows <= 0) return plan;
  const int64_t probes = std::max<int64_t>(shape.probes, 1);
  if (score_block_bytes_override > 0) {
    plan.budget_bytes = score_block_bytes_override;
    plan.tile_cols =
        ScoreTileCols(shape.gallery_rows, probes, score_block_bytes_override);
  } else {
    plan.budget_bytes = static_cast<int64_t>(
        static_cast<double>(device.l2_cache_bytes) * l2_fraction);
    // Linear in the columns: fixed probe operand + per-column bytes.
    const int64_t fixed = PipelineL2Bytes(0, shape);
    const int64_t per_col = PipelineL2Bytes(1, shape) - fixed;
    const int64_t room = std::max<int64_t>(plan.budget_bytes - fixed, 0);
    int64_t cols = room / std::max<int64_t>(per_col, 1);
    cols = cols / kTileColsMultiple * kTileColsMultiple;
    cols = std::max(cols, kTileColsMultiple);
    plan.tile_cols = std::min(cols, shape.gallery_rows);
  }
  plan.num_tiles = NumScoreTiles(shape.gallery_rows, plan.tile_cols);
  const int k = std::max(shape.k, 1);
  plan.max_splits = static_cast<int>(std::min<int64_t>(
      kMaxSelectSplits, std::max<int64_t>(1, kMaxSecondStageCandidates / k)));
  plan.splits = SelectionSplits(probes, plan.tile_cols,
                                kSelectionBlocksPerSm * device.sm_count,
                                shape.min_cols_per_block, plan.max_splits);
  plan.live_bytes = PipelineL2Bytes(plan.tile_cols, shape);
  return plan;
}

}  // namespace candor::kernels
