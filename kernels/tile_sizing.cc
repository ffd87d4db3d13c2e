// Score-tile arithmetic (see tile_sizing.h).
#include "kernels/tile_sizing.h"

#include <algorithm>

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

}  // namespace candor::kernels
