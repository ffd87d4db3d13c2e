// candor's own GPU flat index: exact inner-product search with the gallery
// resident on the device, scored by cuBLAS over L2-sized tiles and reduced
// tile by tile with the threshold + top-k selection kernel, so the full
// probes x gallery score matrix never exists in device memory.
//
// Plain C++ (no CUDA types): the device state lives behind a pointer, so the
// factory, tests and benchmark compile with any C++ compiler.
#ifndef CANDOR_SERVER_INDEX_GPU_GPU_FLAT_INDEX_H_
#define CANDOR_SERVER_INDEX_GPU_GPU_FLAT_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "kernels/tile_sizing.h"
#include "server/index/index.h"

namespace candor::index::gpu {

struct GpuFlatIndexOptions {
  int dimension = 0;
  // fp16 gallery storage halves device memory and runs the GEMM on fp16
  // tensor cores (fp32 accumulation); scores then differ from fp32 by about
  // 1e-3 at d = 512. false keeps fp32 rows and an fp32 GEMM (no TF32).
  bool fp16_storage = true;
  // CUDA device ordinal.
  int device = 0;
  // Probes per device pass; a larger Search is split into passes. Bounds
  // the per-pass workspace (probes, top-k lists: 12 bytes * k per probe).
  int max_batch_probes = 4096;
  // Rows allocated by the first Add; capacity then doubles, so appending n
  // rows costs amortized O(n) copies and never re-uploads from the host.
  int64_t initial_capacity_rows = 4096;
  // Removed rows stay in place as tombstones (skipped by the selection)
  // until they exceed this fraction of the stored rows; then the gallery is
  // compacted on the device.
  double compaction_fraction = 0.25;
  // Share of the device's L2 (read from the device) that the search
  // pipeline's live set may use: both score blocks, the probes and, at large
  // batches, the gallery tile (kernels::PlanScoreTiles).
  double score_tile_l2_fraction = kernels::kScoreTileL2Fraction;
  // > 0: bytes of one probes x tile fp32 score block instead of the L2
  // sizing. Tests set it small to force many tiles.
  int64_t score_tile_budget_bytes = 0;
  // Small batches split each probe's tile columns among several selection
  // blocks (kernels::SelectionSplits) so that batch 1 still fills the
  // device; no block gets fewer columns than this. Tests lower it to
  // exercise the split path on small galleries.
  int64_t selection_min_cols_per_block = 4096;
};

class GpuFlatIndex final : public Index {
 public:
  // FailedPrecondition without a CUDA device; InvalidArgument for a bad
  // dimension; device errors as their Status.
  static absl::StatusOr<std::unique_ptr<GpuFlatIndex>> Create(
      const GpuFlatIndexOptions& options);
  ~GpuFlatIndex() override;

  std::string backend() const override { return "gpu"; }
  int dimension() const override { return options_.dimension; }
  int64_t size() const override;
  bool NormalizesProbes() const override { return true; }

  // Host rows are staged through a device buffer (converted to fp16 there
  // when fp16_storage); only the new rows cross PCIe. kRemovedId (2^64 - 1)
  // is reserved and rejected; an id already present is AlreadyExists.
  absl::Status Add(absl::Span<const EntryId> ids,
                   absl::Span<const float> vectors) override;
  // As Add, but `device_vectors` (ids.size() x dimension() floats, row-major,
  // L2-normalized) are already in device memory: for galleries generated on
  // the device (the benchmark) and loaders that decode on the GPU.
  absl::Status AddFromDevice(absl::Span<const EntryId> ids,
                             const float* device_vectors);
  // Tombstones the rows (NotFound for an absent id, nothing changed then).
  // OK once the rows are tombstoned, which is what a search sees: they are
  // removed even when the compaction this may start fails. That failure is
  // kept in compaction_status() and the compaction is retried by the next
  // Remove; the rows stay tombstoned (never searched) meanwhile.
  absl::Status Remove(absl::Span<const EntryId> ids) override;
  // The outcome of the last compaction attempt (OK before any).
  absl::Status compaction_status() const;

  // Search passes are serialized on this index's two streams (one pass
  // already fills the device); concurrent callers queue on a mutex. top_k
  // outside [1, kernels::kMaxTopK] is InvalidArgument. The probes are
  // normalized on the device by the CUDA kernel (NormalizesProbes); a row
  // it cannot normalize is InvalidArgument naming the row, as on the CPU.
  absl::StatusOr<SearchHits> Search(
      absl::Span<const float> probes,
      absl::Span<const ProbeQuery> queries) const override;

  // Host: id map and pinned buffers. Device: gallery rows, the row-id
  // array, and the search workspace.
  MemoryBytes memory() const override;

  // Introspection for tests and the benchmark.
  int64_t stored_rows() const;    // live + tombstoned
  int64_t capacity_rows() const;  // rows the device buffer holds
  int64_t ScoreTileCols(int64_t probes) const;
  // The tiling of a pass of `probes` probes with largest top-k `k`.
  kernels::ScoreTilePlan TilePlan(int64_t probes, int k) const;

  // Benchmark knobs; they change the speed, never a result, except
  // `select = false`.
  struct SearchTuning {
    // Overrides options.score_tile_l2_fraction when > 0.
    double l2_fraction = 0.0;
    // false: each pass runs the GEMMs of the tile loop only (no selection,
    // no results downloaded) and Search returns empty hit lists; for timing
    // the GEMM's share with LastSearchGpuSeconds.
    bool select = true;
    // kernels::SelectTuning::skip_unchanged_sort.
    bool skip_unchanged_sort = true;
  };
  void SetSearchTuning(const SearchTuning& tuning);
  // Test hook: the next compaction fails with `status` (before touching
  // anything) instead of running.
  void FailNextCompactionForTest(absl::Status status);
  // GPU time of the last device pass of the last successful Search, from
  // CUDA events: from its probe upload to its result download (the
  // benchmark's measure; host-side copies before and after are excluded).
  absl::StatusOr<double> LastSearchGpuSeconds() const;

 private:
  struct Device;  // CUDA state, defined in gpu_flat_index.cc.

  explicit GpuFlatIndex(const GpuFlatIndexOptions& options);

  absl::Status AddRows(absl::Span<const EntryId> ids, const float* vectors,
                       bool on_device) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status EnsureCapacity(int64_t rows) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Compact() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One device pass, and its steps in the order it runs them.
  struct PassShape;
  absl::Status SearchPass(int64_t first_row, const float* probes,
                          const ProbeQuery* queries, int64_t num_probes,
                          std::vector<ScoredId>* hits) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ReserveWorkspace(const PassShape& shape) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status UploadProbes(const float* probes, const ProbeQuery* queries,
                            const PassShape& shape) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<const void*> NormalizeProbes(const PassShape& shape) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ScoreAndSelectTiles(const void* gemm_probes,
                                   const PassShape& shape) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status DownloadLists(const PassShape& shape) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status UnpackLists(int64_t first_row, const ProbeQuery* queries,
                           const PassShape& shape,
                           std::vector<ScoredId>* hits) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t RowBytes() const;
  kernels::ScoreTilePlan PlanLocked(int64_t probes, int k) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const GpuFlatIndexOptions options_;
  // Guards everything below: the host id map and all device state. Search
  // holds it for a whole pass because the workspace and streams are shared.
  mutable absl::Mutex mu_;
  // Row -> entry id, kRemovedId for tombstones; mirrors the device array.
  std::vector<EntryId> row_ids_ ABSL_GUARDED_BY(mu_);
  // Live entry id -> row.
  absl::flat_hash_map<EntryId, int64_t> row_of_ ABSL_GUARDED_BY(mu_);
  int64_t removed_rows_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status compaction_status_ ABSL_GUARDED_BY(mu_);
  absl::Status injected_compaction_failure_ ABSL_GUARDED_BY(mu_);
  SearchTuning tuning_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Device> device_ ABSL_GUARDED_BY(mu_);
};

}  // namespace candor::index::gpu

#endif  // CANDOR_SERVER_INDEX_GPU_GPU_FLAT_INDEX_H_
