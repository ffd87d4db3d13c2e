// One index call per backend: the work the batcher amortizes. Items are
// probes searched; each probe meets every gallery entry (flat) or the
// entries of `nprobe` lists (IVF).
#include <map>
#include <memory>
#include <numeric>
#include <tuple>
#include <vector>

#include "bench/micro/bench_data.h"
#include "benchmark/benchmark.h"
#include "faiss/IndexFlat.h"
#include "server/index/index_factory.h"

namespace candor::bench {
namespace {

constexpr int kDim = 512;
constexpr int kTopK = 10;

// Builds (once per process) a gallery of `entries` unit rows in the given
// index type; IVF is trained on a sample of 50 rows per list.
absl::StatusOr<const index::Index*> GalleryIndex(index::IndexType type,
                                                 int entries, int nlist) {
  using Key = std::tuple<index::IndexType, int, int>;
  static auto* const built = new std::map<Key, std::unique_ptr<index::Index>>();
  const Key key(type, entries, nlist);
  if (auto it = built->find(key); it != built->end()) return it->second.get();

  index::IndexConfig config;
  config.dimension = kDim;
  config.type = type;
  config.nlist = nlist;
  auto created = index::CreateIndex(config, index::Backend::kCpu);
  if (!created.ok()) return created.status();
  const std::vector<float> rows = GaussianRows(entries, kDim, 42, true);
  if (type == index::IndexType::kIvfFlat) {
    const size_t sample =
        std::min<size_t>(rows.size(), size_t{50} * nlist * kDim);
    absl::Status trained =
        (*created)->Train(absl::MakeConstSpan(rows.data(), sample), nlist);
    if (!trained.ok()) return trained;
  }
  std::vector<EntryId> ids(entries);
  std::iota(ids.begin(), ids.end(), EntryId{1});
  if (absl::Status added = (*created)->Add(ids, rows); !added.ok()) {
    return added;
  }
  return (built->emplace(key, *std::move(created)).first->second.get());
}

void RunSearch(benchmark::State& state, index::IndexType type, int nlist,
               int nprobe) {
  const int batch = static_cast<int>(state.range(0));
  const int entries = static_cast<int>(state.range(1));
  auto index = GalleryIndex(type, entries, nlist);
  if (!index.ok()) {
    state.SkipWithError(index.status().ToString().c_str());
    return;
  }
  const std::vector<float> probes = GaussianRows(batch, kDim, 7, true);
  const std::vector<ProbeQuery> queries(batch,
                                        ProbeQuery{-1.0f, kTopK, nprobe});
  for (auto _ : state) {
    auto hits = (*index)->Search(probes, queries);
    if (!hits.ok()) {
      state.SkipWithError(hits.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(hits->data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetLabel((*index)->backend());
}

void BM_IndexSearchFaissFlat(benchmark::State& state) {
  RunSearch(state, index::IndexType::kFlat, 0, 0);
}
BENCHMARK(BM_IndexSearchFaissFlat)
    ->ArgNames({"batch", "entries"})
    ->Args({1, 20000})
    ->Args({32, 20000})
    ->Args({256, 20000})
    ->Args({256, 100000})
    ->Unit(benchmark::kMicrosecond);

// The baseline for BM_IndexSearchFaissFlat: faiss::IndexFlatIP::search on
// the same rows and probes, as a user calling FAISS would write it. The
// ratio of the two is what candor's index layer (id map, tie check, hit
// selection) costs; run them interleaved to share the machine's noise:
//   --benchmark_filter='Flat' --benchmark_repetitions=10
//   --benchmark_enable_random_interleaving=true
void BM_FaissIndexFlatIPDirect(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  const int entries = static_cast<int>(state.range(1));
  static auto* const built =
      new std::map<int, std::unique_ptr<faiss::IndexFlatIP>>();
  std::unique_ptr<faiss::IndexFlatIP>& index = (*built)[entries];
  if (index == nullptr) {
    index = std::make_unique<faiss::IndexFlatIP>(kDim);
    const std::vector<float> rows = GaussianRows(entries, kDim, 42, true);
    index->add(entries, rows.data());
  }
  const std::vector<float> probes = GaussianRows(batch, kDim, 7, true);
  std::vector<float> scores(static_cast<size_t>(batch) * kTopK);
  std::vector<faiss::Index::idx_t> labels(scores.size());
  for (auto _ : state) {
    index->search(batch, probes.data(), kTopK, scores.data(), labels.data());
    benchmark::DoNotOptimize(scores.data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetLabel("faiss::IndexFlatIP");
}
BENCHMARK(BM_FaissIndexFlatIPDirect)
    ->ArgNames({"batch", "entries"})
    ->Args({256, 20000})
    ->Args({256, 100000})
    ->Unit(benchmark::kMicrosecond);

void BM_IndexSearchFaissIvf(benchmark::State& state) {
  RunSearch(state, index::IndexType::kIvfFlat, 64, 8);
}
BENCHMARK(BM_IndexSearchFaissIvf)
    ->ArgNames({"batch", "entries"})
    ->Args({1, 20000})
    ->Args({256, 20000})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace candor::bench
