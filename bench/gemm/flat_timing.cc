#include "bench/gemm/flat_timing.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>
#include <string>

#include "bench/gemm/bench_gallery.h"
#include "bench/gemm/bench_output.h"
#include "server/index/cpu_blas.h"
#include "server/index/index_factory.h"

namespace candor::bench {

double TopHitError(const index::SearchHits& hits,
                   const std::vector<float>& probes,
                   const index::Fp32RowSource& rows, int dim) {
  double worst = 0;
  for (size_t i = 0; i < hits.size(); ++i) {
    if (hits[i].empty()) continue;
    const ScoredId top = hits[i][0];
    const float* row = rows.Row(top.id);
    double dot = 0;
    for (int c = 0; c < dim; ++c)
      dot += double{probes[i * dim + c]} * double{row[c]};
    worst = std::max(worst, std::abs(dot - double{top.score}));
  }
  return worst;
}

absl::StatusOr<index::SearchHits> TimeSearch(
    const index::Index& idx, const std::vector<float>& probes,
    const std::vector<ProbeQuery>& queries, int reps, double* best) {
  absl::StatusOr<index::SearchHits> first = idx.Search(probes, queries);
  if (!first.ok()) return first;
  *best = 1e30;
  for (int r = 0; r < reps; ++r) {
    Pause();
    const auto start = Clock::now();
    auto hits = idx.Search(probes, queries);
    *best = std::min(*best, Seconds(start));
    if (!hits.ok()) return hits.status();
  }
  return first;
}

void TimeBf16(const Bf16Run& run, const std::vector<float>& probes,
              const std::vector<ProbeQuery>& queries) {
  const std::vector<float>* gallery = run.gallery;
  const int64_t entries = run.entries;
  const int dim = run.dim;
  std::unique_ptr<index::Fp32RowSource> rows;
  if (gallery != nullptr) {
    rows = std::make_unique<HeldRows>(gallery->data(), dim);
  } else {
    rows = std::make_unique<RemadeRows>(run.seed, dim);
  }
  index::IndexConfig config;
  config.dimension = dim;
  config.precision = index::Precision::kBf16;
  config.fp32_rows = rows.get();
  auto idx = index::CreateIndex(config, index::Backend::kCpu);
  if (!idx.ok()) {
    std::printf("skip   %-16s %s\n", "cpu-bf16",
                idx.status().ToString().c_str());
    return;
  }
  const auto add_start = Clock::now();
  absl::Status added;
  if (gallery != nullptr) {
    std::vector<EntryId> ids(entries);
    std::iota(ids.begin(), ids.end(), 1);
    added = (*idx)->Add(ids, *gallery);
  } else {
    added = AddMadeRows(**idx, run.seed, entries, dim, run.threads,
                        run.add_chunk_rows);
  }
  if (!added.ok()) {
    std::printf("skip   %-16s %s\n", "cpu-bf16", added.ToString().c_str());
    return;
  }
  const double add_s = Seconds(add_start);
  if (index::ServingBlas().info().library == "scipy-openblas") {
    index::ServingBlas().SetThreads(1);
  }
  double best = 0;
  const auto search_start = Clock::now();
  auto first = TimeSearch(**idx, probes, queries, run.reps, &best);
  const double search_s = Seconds(search_start);
  if (!first.ok()) {
    std::printf("skip   %-16s %s\n", "cpu-bf16",
                first.status().ToString().c_str());
    return;
  }
  int64_t mismatches = 0;
  if (run.fp32_hits != nullptr) {
    for (size_t i = 0; i < first->size(); ++i) {
      if ((*first)[i] != (*run.fp32_hits)[i]) ++mismatches;
    }
    std::printf("answers cpu-bf16 vs cpu-flat: %lld of %zu probes differ\n",
                static_cast<long long>(mismatches), first->size());
  }
  const auto* bf16 = dynamic_cast<const index::Bf16FlatIndex*>(idx->get());
  const std::string kernel = bf16 ? index::Bf16KernelName(bf16->kernel()) : "?";
  PrintResult("flat", "cpu-bf16",
              (*idx)->backend() + " " + kernel + " top_k " +
                  std::to_string(queries.front().top_k),
              best, static_cast<int64_t>(queries.size()), entries, dim,
              TopHitError(*first, probes, *rows, dim), run.threads,
              mismatches == 0);
  const double index_bytes = static_cast<double>((*idx)->memory().host_bytes);
  const auto* remade = dynamic_cast<const RemadeRows*>(rows.get());
  std::printf(
      "memory cpu-bf16: index %.2f GiB (%.1f bytes/entry), process peak RSS "
      "%.2f GiB; fp32 gallery %s; add %.1f s, searches %.1f s\n",
      index_bytes / (1 << 30), index_bytes / entries,
      PeakRssBytes() / (1 << 30),
      remade ? ("never held (" + std::to_string(remade->made()) +
                " rows made again for rescoring)")
                   .c_str()
             : "held (shared with the fp32 indexes)",
      add_s, search_s);
  std::printf(
      "RESULT kind=memory name=cpu-bf16 index_bytes=%.0f "
      "peak_rss_bytes=%.0f fp32_held=%d mismatches=%lld entries=%lld\n",
      index_bytes, PeakRssBytes(), gallery != nullptr ? 1 : 0,
      static_cast<long long>(mismatches), static_cast<long long>(entries));
  std::fflush(stdout);
}

}  // namespace candor::bench
