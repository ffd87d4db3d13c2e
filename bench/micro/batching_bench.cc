// The batcher's own costs, with the index call taken out: assembling a
// batch and splitting its answer, and a full Submit -> callback round trip.
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "bench/micro/bench_data.h"
#include "benchmark/benchmark.h"
#include "server/batching/batch_assembly.h"
#include "server/batching/dynamic_batcher.h"

namespace candor::bench {
namespace {

using batching::CandidateLists;

constexpr int kDim = 512;
constexpr int kTopK = 10;

CandidateLists FakeAnswer(int probes) {
  CandidateLists lists(probes);
  for (int p = 0; p < probes; ++p) {
    for (int k = 0; k < kTopK; ++k) {
      lists[p].push_back(Candidate{EntryId(p * kTopK + k), "subject-0000001",
                                   "group-a", 0.5f});
    }
  }
  return lists;
}

// Merge of `requests` requests of `probes` probes each, then the split of a
// top-10 answer back to them. Items are probes.
void BM_BatchMergeSplit(benchmark::State& state) {
  const int requests = static_cast<int>(state.range(0));
  const int probes = static_cast<int>(state.range(1));
  batching::RequestList batch;
  for (int r = 0; r < requests; ++r) {
    auto request = std::make_unique<batching::PendingRequest>();
    request->dim = kDim;
    request->probes = GaussianRows(probes, kDim, r, true);
    request->queries.assign(probes, ProbeQuery{0.3f, kTopK});
    batch.push_back(std::move(request));
  }
  const std::vector<int> sizes(requests, probes);
  const CandidateLists answer = FakeAnswer(requests * probes);
  for (auto _ : state) {
    batching::MergedInput merged = batching::MergeRequests(batch);
    benchmark::DoNotOptimize(merged.probes.data());
    state.PauseTiming();
    CandidateLists copy = answer;
    state.ResumeTiming();
    auto split = batching::SplitResults(std::move(copy), sizes);
    benchmark::DoNotOptimize(split->data());
  }
  state.SetItemsProcessed(state.iterations() * requests * probes);
}
BENCHMARK(BM_BatchMergeSplit)
    ->ArgNames({"requests", "probes"})
    ->Args({64, 1})
    ->Args({256, 1})
    ->Args({16, 16});

// `in_flight` one-probe requests submitted back to back, then waited for;
// the search returns empty lists at once. Items are requests. Arg 1 turns
// batching off (pass-through) for comparison.
void BM_BatcherRoundTrip(benchmark::State& state) {
  const int in_flight = static_cast<int>(state.range(0));
  batching::BatcherOptions options;
  options.enabled = state.range(1) != 0;
  auto batcher = batching::DynamicBatcher::Create(
      options, [](const batching::BatchKey&, absl::Span<const float>,
                  absl::Span<const ProbeQuery> queries) {
        SearchOutcome outcome;
        outcome.candidates.resize(queries.size());
        return absl::StatusOr<SearchOutcome>(std::move(outcome));
      });
  if (!batcher.ok()) {
    state.SkipWithError(batcher.status().ToString().c_str());
    return;
  }
  const std::vector<float> probe = GaussianRows(1, kDim, 3, true);
  const batching::BatchKey key(std::make_shared<int>(0), "g");
  for (auto _ : state) {
    absl::BlockingCounter done(in_flight);
    for (int i = 0; i < in_flight; ++i) {
      absl::Status status = (*batcher)->Submit(
          key, probe, kDim, {ProbeQuery{}}, absl::InfiniteFuture(),
          [&done](absl::StatusOr<SearchOutcome>) {
            done.DecrementCount();
          });
      if (!status.ok()) {
        state.SkipWithError(status.ToString().c_str());
        return;
      }
    }
    done.Wait();
  }
  state.SetItemsProcessed(state.iterations() * in_flight);
  const batching::BatcherStats stats = (*batcher)->Stats();
  state.counters["probes_per_batch"] =
      stats.batches_run > 0
          ? double(stats.probes_searched) / double(stats.batches_run)
          : 0.0;
}
BENCHMARK(BM_BatcherRoundTrip)
    ->ArgNames({"in_flight", "enabled"})
    ->Args({64, 1})
    ->Args({64, 0})
    ->UseRealTime();

}  // namespace
}  // namespace candor::bench
