// How candor-gemm-bench times the flat indexes (cpu-flat, faiss-cpu,
// cpu-bf16): one warm Search, then the best of a few timed ones, each
// checked against float64 on every probe's best hit.
#ifndef CANDOR_BENCH_GEMM_FLAT_TIMING_H_
#define CANDOR_BENCH_GEMM_FLAT_TIMING_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "server/index/bf16_flat_index.h"
#include "server/index/index.h"

namespace candor::bench {

// Largest |score - float64| over each probe's best hit, the row read from
// `rows` (entry id j + 1 is row j); probes: hits.size() rows of dim.
double TopHitError(const index::SearchHits& hits,
                   const std::vector<float>& probes,
                   const index::Fp32RowSource& rows, int dim);

// One warm Search, then `reps` timed ones (a Pause before each); *best: the
// fastest, seconds. Returns the warm call's hits.
absl::StatusOr<index::SearchHits> TimeSearch(
    const index::Index& idx, const std::vector<float>& probes,
    const std::vector<ProbeQuery>& queries, int reps, double* best);

struct Bf16Run {
  // The fp32 gallery, entries x dim, when held; null: the rows are made in
  // chunks of at most add_chunk_rows into the index and made again for
  // rescoring (bench_gallery.h), from `seed`.
  const std::vector<float>* gallery = nullptr;
  uint64_t seed = 0;
  int64_t add_chunk_rows = 65536;
  int64_t entries = 0;
  int dim = 0;
  int reps = 1;
  // Threads of the index and of the row making.
  int threads = 1;
  // cpu-flat's answers to the same probes, when it ran: the bf16 index's
  // must equal them.
  const index::SearchHits* fp32_hits = nullptr;
};

// Builds the bf16 flat index as the server does (index_factory, backend
// cpu: the fp32 rescoring GEMM is the serving one, single-threaded under
// the index's workers as in the server), times it, and prints its result
// (PrintResult), its answers against run.fp32_hits, and its memory: the
// index's bytes and the process's peak resident memory (a RESULT
// kind=memory line).
void TimeBf16(const Bf16Run& run, const std::vector<float>& probes,
              const std::vector<ProbeQuery>& queries);

}  // namespace candor::bench

#endif  // CANDOR_BENCH_GEMM_FLAT_TIMING_H_
