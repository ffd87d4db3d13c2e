// How many gallery columns one score tile of the fused GPU search spans.
// Plain arithmetic, shared by the GPU backend, its tests and the benchmark.
//
// The fused search computes a probes x tile_cols fp32 score block with one
// GEMM and reduces it at once with the top-k selection kernel. The block is
// sized to stay resident in L2 between the two (H100: 50 MB of L2), so the
// scores never make the round trip to HBM.
#ifndef CANDOR_KERNELS_TILE_SIZING_H_
#define CANDOR_KERNELS_TILE_SIZING_H_

#include <cstdint>

namespace candor::kernels {

// Columns are a multiple of this: the GEMM's tensor-core tiles are 128 wide
// along the gallery dimension and the selection kernel reads 16-byte vectors.
inline constexpr int64_t kTileColsMultiple = 128;

// Share of the L2 cache one score block may use: the GEMM also streams its
// operands through L2, so the block gets 80% (40 MB of an H100's 50 MB).
inline constexpr double kScoreTileL2Fraction = 0.8;

// Score-block budget for a device with `l2_cache_bytes` of L2.
int64_t ScoreTileBudgetBytes(int64_t l2_cache_bytes);

// Columns per tile: budget / (4 bytes * probes), rounded down to a multiple
// of kTileColsMultiple, at least kTileColsMultiple (a huge batch overshoots
// the budget rather than degenerating into slivers), and never more than
// `gallery_rows` (a small gallery is one tile). 0 when the gallery is empty.
// `probes` >= 1.
int64_t ScoreTileCols(int64_t gallery_rows, int64_t probes,
                      int64_t score_budget_bytes);

// Tiles needed to cover `gallery_rows` at `tile_cols` columns each.
int64_t NumScoreTiles(int64_t gallery_rows, int64_t tile_cols);

// Blocks per probe for selecting one tile (see SelectTopKSplitDevice): as
// many as it takes for probes * splits to reach `target_blocks` (a few
// blocks per SM fill the device), but no block with fewer than
// `min_cols_per_block` columns (below that the second stage costs more than
// the split saves), and at most `max_splits`. At least 1.
int SelectionSplits(int64_t probes, int64_t tile_cols, int64_t target_blocks,
                    int64_t min_cols_per_block, int max_splits);

}  // namespace candor::kernels

#endif  // CANDOR_KERNELS_TILE_SIZING_H_
