// How many gallery columns one score tile of the fused GPU search spans.
// Plain arithmetic, shared by the GPU backend, its tests and the benchmark.
//
// The fused search computes a probes x tile_cols fp32 score block with one
// GEMM and reduces it at once with the top-k selection kernel. Two streams
// overlap tile t's GEMM with tile t-1's selection, so two score blocks are
// live at once, plus the gallery tile the GEMM streams and the probes it
// multiplies. All of that is sized together to stay within the device's L2
// (read from the device: 50 MiB on an H100, 60 MiB on an H200), so that the
// scores never make the round trip to HBM.
#ifndef CANDOR_KERNELS_TILE_SIZING_H_
#define CANDOR_KERNELS_TILE_SIZING_H_

#include <cstdint>

namespace candor::kernels {

// Columns are a multiple of this: the GEMM's tensor-core tiles are 128 wide
// along the gallery dimension and the selection kernel reads 16-byte vectors.
inline constexpr int64_t kTileColsMultiple = 128;

// Share of the L2 cache the pipeline's live set (PipelineL2Bytes) may use
// by default; the rest is headroom for what else passes through L2 (the
// id array, the top-k lists, lines evicted late). The benchmark sweeps it.
inline constexpr double kScoreTileL2Fraction = 0.8;

// kScoreTileL2Fraction of `l2_cache_bytes`.
int64_t ScoreTileBudgetBytes(int64_t l2_cache_bytes);

// Selection blocks per SM aimed at when splitting a small batch's columns.
inline constexpr int64_t kSelectionBlocksPerSm = 4;
// Bound on a split selection's second stage (splits * k candidates per
// probe), which one block per probe scans.
inline constexpr int64_t kMaxSecondStageCandidates = 32768;

// What the tile plan needs to know of a device: cudaDeviceProp's
// l2CacheSize and multiProcessorCount (tests give them as data).
struct DeviceL2Properties {
  int64_t l2_cache_bytes = 0;
  int sm_count = 0;
};

// The search pass's shape.
struct TileShape {
  int64_t gallery_rows = 0;       // stored rows, tombstones included
  int64_t probes = 1;             // probes of one pass
  int64_t gallery_row_bytes = 0;  // d * 2 (fp16) or d * 4 (fp32)
  int64_t probe_row_bytes = 0;    // the GEMM's probe operand per probe
  int k = 1;                      // the pass's largest top_k
  // No selection block narrower than this (GpuFlatIndexOptions).
  int64_t min_cols_per_block = 4096;
};

// How a pass is tiled.
struct ScoreTilePlan {
  int64_t l2_cache_bytes = 0;
  int64_t budget_bytes = 0;  // what the live set was sized to
  int64_t tile_cols = 0;
  int64_t num_tiles = 0;
  int splits = 1;          // selection blocks per probe of a full tile
  int max_splits = 1;      // the bound `splits` was chosen under
  int64_t live_bytes = 0;  // PipelineL2Bytes at tile_cols
};

// Up to this many probes the GEMM covers the whole batch with one tile along
// the probes (cuBLAS's Hopper tiles are up to 256 wide), so it reads each
// gallery row once: the gallery tile streams through L2 and needs no room
// there. Above it, the gallery tile is read once per probe tile and has to
// stay resident.
inline constexpr int64_t kGemmSinglePassProbes = 256;

// Bytes live in L2 while the two-stream pipeline runs tiles of `cols`
// columns: two fp32 score blocks (tile t's GEMM writes one while tile t-1's
// selection reads the other), the probe operand of the GEMM and, above
// kGemmSinglePassProbes, the gallery tile it rereads.
int64_t PipelineL2Bytes(int64_t cols, const TileShape& shape);

// The plan for `shape` on `device` with the live set within
// l2_fraction * L2: the widest multiple of kTileColsMultiple that fits (at
// least kTileColsMultiple: a huge batch overshoots rather than degenerating
// into slivers; at most gallery_rows). score_block_bytes_override > 0
// replaces that sizing with ScoreTileCols(.., override) (tests force many
// tiles with it).
ScoreTilePlan PlanScoreTiles(const DeviceL2Properties& device,
                             const TileShape& shape, double l2_fraction,
                             int64_t score_block_bytes_override = 0);

// Columns per tile for one score block of at most `score_budget_bytes`
// (one buffer alone; PlanScoreTiles sizes the whole live set): budget /
// (4 bytes * probes), rounded down to a multiple
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
