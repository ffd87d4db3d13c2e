// The gallery of candor-gemm-bench: unit Gaussian rows, each a function of
// (seed, row) alone, so any row can be made again on demand. That is what
// lets the bf16 index be measured on a gallery whose fp32 copy does not fit
// in memory (10M x 512 floats is 20 GiB; its bf16 rows are 10): the rows
// are made and added in chunks, and the few the index rescores in fp32 are
// made again when it asks for them (RemadeRows).
#ifndef CANDOR_BENCH_GEMM_BENCH_GALLERY_H_
#define CANDOR_BENCH_GEMM_BENCH_GALLERY_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/index/bf16_flat_index.h"
#include "server/index/index.h"

namespace candor::bench {

// Rows [first, first + count) of the gallery of `seed`, dim floats each,
// into out (count x dim, row-major), made on `threads` threads. The same
// row is the same floats whatever the range or the thread count.
void MakeGalleryRows(uint64_t seed, int64_t first, int64_t count, int dim,
                     int threads, float* out);

// The fp32 rows of entry ids 1..n (id - 1 is the row) held in memory, not
// owned: the bf16 index reads the gallery the fp32 ones search.
class HeldRows final : public index::Fp32RowSource {
 public:
  HeldRows(const float* rows, int dim) : rows_(rows), dim_(dim) {}
  const float* Row(EntryId id) const override {
    return rows_ + static_cast<int64_t>(id - 1) * dim_;
  }

 private:
  const float* const rows_;
  const int dim_;
};

// The fp32 rows of entry ids 1..n made again on first use and kept: a
// search rescores tens of rows per probe, and the repeated searches of a
// benchmark (same probes) rescore the same ones, so the timed calls after
// a warm-up one find them made, as the server finds the snapshot's rows in
// the page cache. Safe to call from the index's threads at once.
class RemadeRows final : public index::Fp32RowSource {
 public:
  RemadeRows(uint64_t seed, int dim) : seed_(seed), dim_(dim) {}
  const float* Row(EntryId id) const override;
  // Rows made so far.
  int64_t made() const;

 private:
  const uint64_t seed_;
  const int dim_;
  mutable absl::Mutex mu_;
  // Host memory; a row's floats never move once made (the map holds
  // pointers), so Row's result stays valid while the source lives.
  mutable absl::flat_hash_map<EntryId, std::unique_ptr<float[]>> rows_
      ABSL_GUARDED_BY(mu_);
};

// Rows per Add call for an index whose row storage grows as libstdc++'s
// vector::resize does (to max(2 x size, size + added)): total / 2^j rounded
// up, for the smallest j that brings it to at most max_rows. Then the
// capacities are chunk x 2^i, the last one just above `total`, and the
// last reallocation copies half the gallery into the new block: about
// `total` rows resident at the peak, against up to 2 x total (the last
// doubling's old and new blocks both touched) for a fixed chunk.
int64_t AddChunkRows(int64_t total, int64_t max_rows);

// Adds rows 0..entries-1 of the gallery of `seed` (ids 1..entries) to
// `index` in chunks of AddChunkRows(entries, max_chunk_rows), each made on
// `threads` threads just before it is added: the fp32 gallery is never
// held whole (one chunk at a time).
absl::Status AddMadeRows(index::Index& index, uint64_t seed, int64_t entries,
                         int dim, int threads, int64_t max_chunk_rows);

}  // namespace candor::bench

#endif  // CANDOR_BENCH_GEMM_BENCH_GALLERY_H_
