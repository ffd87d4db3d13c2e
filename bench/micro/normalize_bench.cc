// L2 normalization of probe rows: the CPU reference every request runs
// before its search on a CPU server.
#include <vector>

#include "bench/micro/bench_data.h"
#include "benchmark/benchmark.h"
#include "kernels/normalize.h"

namespace candor::bench {
namespace {

void BM_L2NormalizeReference(benchmark::State& state) {
  const int64_t rows = state.range(0), dim = state.range(1);
  const std::vector<float> in = GaussianRows(rows, dim, 1, false);
  std::vector<float> out(in.size());
  std::vector<kernels::RowStatus> status(rows);
  for (auto _ : state) {
    kernels::L2NormalizeRowsReference(in.data(), rows, dim, out.data(),
                                      status.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * rows);
  state.SetBytesProcessed(state.iterations() * rows * dim * 2 *
                          int64_t{sizeof(float)});
}
BENCHMARK(BM_L2NormalizeReference)
    ->ArgNames({"rows", "dim"})
    ->Args({1, 512})
    ->Args({256, 512})
    ->Args({1024, 512})
    ->Args({1024, 128});

}  // namespace
}  // namespace candor::bench
