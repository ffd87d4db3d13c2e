// Exact inner-product search on the CPU, candor's own: the gallery in one
// row-major block of host memory, scored a tile of rows at a time by the
// GEMM of cpu_blas.h, with each probe's threshold / top-k selection run
// over a tile's scores while they are still in cache.
//
// Why not FAISS's IndexFlatIP: its GEMM is the OpenBLAS FAISS links
// (Debian's, which does not know current CPUs; cpu_blas.h), and its top-k
// cannot see ties at the boundary, which costs a second pass per tied
// probe (faiss_search.h). Here every score is computed once and every
// candidate is offered to the probe's selection, so the answer is exact
// in one pass: a hit that ties the current top_k-th score still enters
// when its entry id is smaller.
//
// Cost per search: the GEMM (2 x probes x entries x dimension flops) plus a
// scan of the score tile that compares 8 scores at a time with the probe's
// current bar (the top_k-th best so far, or the threshold), so only the
// few scores above it reach the heap.
//
// Threads: the index runs its own workers, each taking the next tile and
// calling the GEMM single-threaded, rather than one multi-threaded GEMM per
// tile. Measured on 2 shared cores (bench/RESULTS.md), a BLAS call per
// small tile pays its threads' barrier each time, and under load waits on
// whichever thread the scheduler holds back; tiles taken one at a time by
// workers pay one join per search, and each worker's tile stays in its own
// core's cache for the scan.
#ifndef CANDOR_SERVER_INDEX_CPU_FLAT_INDEX_H_
#define CANDOR_SERVER_INDEX_CPU_FLAT_INDEX_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/index/cpu_blas.h"
#include "server/index/index.h"

namespace candor::index {

// Threads one search uses (the server's --threads; default: every core).
// Each runs the GEMM single-threaded over its own tiles, so the library's
// own threads stay at one (ServingBlas() is set so at load).
void SetCpuFlatThreads(int threads);
int CpuFlatThreads();

// Searches of fewer probes than this score each (probe, entry) pair with
// one dot product of its own (faiss::fvec_inner_product) instead of a GEMM,
// as FAISS's flat index does below its own cut-over: a score then does not
// depend on where its row sits in a GEMM call (OpenBLAS's small-matrix
// kernels round edge columns differently), so identical entries tie
// exactly. The bf16 index rescores by the same rule.
inline constexpr int64_t kCpuFlatPairwiseBelowProbes = 20;

class CpuFlatIndex final : public Index {
 public:
  struct Options {
    // Gallery rows per GEMM call; 0 chooses from the batch size (about
    // 4 MiB of scores per tile). Tests set small values to cross tiles.
    int tile_rows = 0;
    // Null: ServingBlas().
    const CpuBlas* blas = nullptr;
    // Searches of fewer flops run on the calling thread alone (-1: about
    // 16M, below which a thread start costs more than it saves). Tests set
    // 0 to spread small searches over workers.
    int64_t min_parallel_flops = -1;
  };

  static absl::StatusOr<std::unique_ptr<CpuFlatIndex>> Create(
      int dimension, const Options& options);
  static absl::StatusOr<std::unique_ptr<CpuFlatIndex>> Create(int dimension) {
    return Create(dimension, Options());
  }

  std::string backend() const override { return "cpu-flat"; }
  int dimension() const override { return dimension_; }
  int64_t size() const override { return static_cast<int64_t>(ids_.size()); }
  absl::Status Add(absl::Span<const EntryId> ids,
                   absl::Span<const float> vectors) override;
  // Swap-remove: the last row moves into each removed row's place.
  absl::Status Remove(absl::Span<const EntryId> ids) override;
  absl::StatusOr<SearchHits> Search(
      absl::Span<const float> probes,
      absl::Span<const ProbeQuery> queries) const override;
  MemoryBytes memory() const override;

  const BlasInfo& blas_info() const { return blas_.info(); }

 private:
  CpuFlatIndex(int dimension, const Options& options, const CpuBlas& blas);

  int TileRows(int64_t probes) const;
  // Up to CpuFlatThreads() workers over the gallery's tiles for one pass
  // of at most kMaxProbesPerPass probes.
  // `pairwise`: score with one dot product per pair (see
  // kCpuFlatPairwiseBelowProbes) instead of the GEMM.
  void SearchPass(const float* probes, absl::Span<const ProbeQuery> queries,
                  bool pairwise,
                  absl::Span<std::vector<ScoredId>> out) const;

  const int dimension_;
  const int tile_rows_;
  const int64_t min_parallel_flops_;
  const CpuBlas& blas_;
  // Row r holds the vector of ids_[r]; position_ maps an id back to r.
  std::vector<float> rows_;
  std::vector<EntryId> ids_;
  absl::flat_hash_map<EntryId, int64_t> position_;
};

}  // namespace candor::index

#endif  // CANDOR_SERVER_INDEX_CPU_FLAT_INDEX_H_
