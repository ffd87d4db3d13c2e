// candor-bf16-kernel-bench: ScoreBf16Rows alone, per kernel path, on a tile
// of gallery rows against a batch of probes (no selection, no rescoring):
// items are row x probe scores, so items/s x 2 x dimension is the path's
// FLOP/s. Args: rows per call, probes, dimension. Rows held in L2 show the
// path's compute rate; the index streams rows from memory, which
// candor-bf16-bench measures. Paths this CPU lacks are skipped with an
// error.
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "server/index/bf16_kernel.h"

namespace candor::index {
namespace {

void ScoreRows(benchmark::State& state, Bf16Kernel kernel) {
  if (!Bf16KernelSupported(kernel)) {
    state.SkipWithError("kernel not supported by this CPU");
    return;
  }
  const int64_t rows = state.range(0);
  const int count = static_cast<int>(state.range(1));
  const int dim = static_cast<int>(state.range(2));
  const int dp = Bf16PaddedDim(dim);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<uint16_t> gallery(size_t(rows) * dp, 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int c = 0; c < dim; ++c)
      gallery[r * dp + c] = FloatToBf16(normal(rng));
  }
  std::vector<float> probes(size_t(count) * dim);
  for (float& x : probes) x = normal(rng);
  PackedProbes packed;
  PackProbes(kernel, probes.data(), count, dim, &packed);
  std::vector<float> scores(size_t(rows) * packed.padded_count);
  for (auto _ : state) {
    ScoreBf16Rows(gallery.data(), rows, packed, scores.data());
    benchmark::DoNotOptimize(scores.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * rows * count);
  state.SetLabel(Bf16KernelName(kernel));
}

// 128 rows x 256 probes x 512: the index's tile at batch 256 (rows, scores
// and probes in L2); 64, 8 and 1 probes: smaller batches (tiles of more
// rows); 129 x 17 x 129: no shape a multiple of a tile.
void Shapes(benchmark::internal::Benchmark* b) {
  b->Args({128, 256, 512})
      ->Args({512, 64, 512})
      ->Args({2048, 8, 512})
      ->Args({2048, 1, 512})
      ->Args({129, 17, 129});
}

BENCHMARK_CAPTURE(ScoreRows, amx_bf16, Bf16Kernel::kAmxBf16)->Apply(Shapes);
BENCHMARK_CAPTURE(ScoreRows, avx512_bf16, Bf16Kernel::kAvx512Bf16)
    ->Apply(Shapes);
BENCHMARK_CAPTURE(ScoreRows, avx2, Bf16Kernel::kAvx2)->Apply(Shapes);
BENCHMARK_CAPTURE(ScoreRows, scalar, Bf16Kernel::kScalar)->Apply(Shapes);

}  // namespace
}  // namespace candor::index
