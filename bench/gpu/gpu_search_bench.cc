// GPU flat-search benchmark: candor's fused search (GpuFlatIndex) against the
// plain cuBLAS + HBM score matrix baseline (and FAISS GpuIndexFlatIP when
// built with CANDOR_FAISS_GPU), over device-generated galleries.
//
// Times are GPU times from CUDA events (probe upload to result download).
// Counters: items_per_second = probes/s of candor's search;
// baseline_probes_per_s and vs_baseline (baseline time / candor time);
// roofline_fraction = 2*N*B*d flop / time / 989 TFLOP/s (H100 SXM dense fp16
// tensor peak); hbm_read_multiple = time / (gallery bytes / 3.35 TB/s), the
// batch-1 target being <= 1.2; device_bytes_per_entry of candor's index.
//
// Quick smoke run: --benchmark_filter=Smoke
#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bench/gpu/baseline_search.h"
#include "bench/gpu/synthetic_rows.h"
#include "benchmark/benchmark.h"
#include "kernels/detail/cuda_raii.h"
#include "kernels/half_convert_device.h"
#include "server/index/gpu/gpu_flat_index.h"

#if defined(CANDOR_HAVE_FAISS_GPU)
#include "server/index/gpu/faiss_gpu_index.h"
#endif

namespace candor::bench {
namespace {

using kernels::detail::DeviceBuffer;

constexpr int kDim = 512;
// H100 SXM: dense fp16 tensor-core peak and HBM3 bandwidth.
constexpr double kPeakFp16FlopPerSecond = 989e12;
constexpr double kHbmBytesPerSecond = 3.35e12;
// Rows generated per device pass (2 GiB of fp32 at d = 512).
constexpr int64_t kGenerateChunkRows = int64_t{1} << 20;
// The baseline's HBM score matrix: at most 8 GiB.
constexpr int64_t kBaselineScoreBudgetBytes = int64_t{8} << 30;
// No threshold: every probe keeps a full top-k, the selection's worst case.
constexpr float kThreshold = -1.0f;
// Baseline timing: runs averaged after one warm-up.
constexpr int kBaselineRuns = 3;

bool HaveDevice() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return count > 0;
}

// One gallery at a time lives on the device (10M x 512 is 10 GB in fp16
// per copy); a request for another size frees the current one first.
struct Gallery {
  int64_t rows = 0;
  std::unique_ptr<index::gpu::GpuFlatIndex> candor;
  DeviceBuffer<uint16_t> half_rows;  // the baseline's own copy
  std::unique_ptr<BaselineSearch> baseline;
#if defined(CANDOR_HAVE_FAISS_GPU)
  std::unique_ptr<index::gpu::FaissGpuIndex> faiss;
#endif
};

absl::StatusOr<Gallery*> GetGallery(int64_t rows) {
  static std::unique_ptr<Gallery> current;
  if (current != nullptr && current->rows == rows) return current.get();
  current.reset();
  auto g = std::make_unique<Gallery>();
  g->rows = rows;
  index::gpu::GpuFlatIndexOptions options;
  options.dimension = kDim;
  options.initial_capacity_rows = rows;  // one allocation, no growth copies
  auto candor = index::gpu::GpuFlatIndex::Create(options);
  if (!candor.ok()) return candor.status();
  g->candor = *std::move(candor);
  auto half_rows = DeviceBuffer<uint16_t>::Allocate(rows * kDim);
  if (!half_rows.ok()) return half_rows.status();
  g->half_rows = *std::move(half_rows);
#if defined(CANDOR_HAVE_FAISS_GPU)
  index::gpu::FaissGpuIndexOptions faiss_options;
  faiss_options.dimension = kDim;
  faiss_options.fp16_storage = true;
  auto faiss = index::gpu::FaissGpuIndex::Create(faiss_options);
  if (!faiss.ok()) return faiss.status();
  g->faiss = *std::move(faiss);
  std::vector<float> host_chunk;
#endif
  auto chunk = DeviceBuffer<float>::Allocate(kGenerateChunkRows * kDim);
  if (!chunk.ok()) return chunk.status();
  std::vector<EntryId> ids;
  for (int64_t first = 0; first < rows; first += kGenerateChunkRows) {
    const int64_t n = std::min(kGenerateChunkRows, rows - first);
    if (absl::Status s = GenerateUnitRowsDevice(chunk->data(), n, kDim,
                                                /*seed=*/1, first, nullptr);
        !s.ok()) {
      return s;
    }
    ids.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      ids[i] = static_cast<EntryId>(first + i + 1);
    if (absl::Status s = g->candor->AddFromDevice(ids, chunk->data());
        !s.ok()) {
      return s;
    }
    if (absl::Status s = kernels::FloatToHalfDevice(
            chunk->data(), n * kDim, g->half_rows.data() + first * kDim,
            nullptr);
        !s.ok()) {
      return s;
    }
#if defined(CANDOR_HAVE_FAISS_GPU)
    host_chunk.resize(static_cast<size_t>(n * kDim));
    CUDA_RETURN_IF_ERROR(cudaMemcpy(host_chunk.data(), chunk->data(),
                                    host_chunk.size() * sizeof(float),
                                    cudaMemcpyDeviceToHost));
    if (absl::Status s = g->faiss->Add(ids, host_chunk); !s.ok()) return s;
#endif
    CUDA_RETURN_IF_ERROR(cudaDeviceSynchronize());
  }
  auto baseline = BaselineSearch::Create(g->half_rows.data(), rows, kDim,
                                         kBaselineScoreBudgetBytes);
  if (!baseline.ok()) return baseline.status();
  g->baseline = *std::move(baseline);
  current = std::move(g);
  return current.get();
}

absl::StatusOr<std::vector<float>> MakeProbes(int64_t count) {
  auto d = DeviceBuffer<float>::Allocate(count * kDim);
  if (!d.ok()) return d.status();
  // Another seed than the gallery's: non-mated probes.
  if (absl::Status s = GenerateUnitRowsDevice(d->data(), count, kDim,
                                              /*seed=*/7, 0, nullptr);
      !s.ok()) {
    return s;
  }
  std::vector<float> host(static_cast<size_t>(count * kDim));
  CUDA_RETURN_IF_ERROR(cudaMemcpy(host.data(), d->data(),
                                  host.size() * sizeof(float),
                                  cudaMemcpyDeviceToHost));
  return host;
}

void RunSearch(benchmark::State& state, int64_t rows, int64_t batch, int k) {
  if (!HaveDevice()) {
    state.SkipWithError("no CUDA device: run on a GPU machine");
    return;
  }
  auto gallery = GetGallery(rows);
  if (!gallery.ok()) {
    state.SkipWithError(gallery.status().ToString().c_str());
    return;
  }
  Gallery& g = **gallery;
  auto probes = MakeProbes(batch);
  if (!probes.ok()) {
    state.SkipWithError(probes.status().ToString().c_str());
    return;
  }
  std::vector<ProbeQuery> queries(static_cast<size_t>(batch));
  for (ProbeQuery& q : queries) {
    q.top_k = k;
    q.threshold = kThreshold;
  }
  // Warm-up: workspace allocation, cuBLAS heuristics.
  if (auto warm = g.candor->Search(*probes, queries); !warm.ok()) {
    state.SkipWithError(warm.status().ToString().c_str());
    return;
  }
  double candor_seconds = 0.0;
  for (auto _ : state) {
    auto hits = g.candor->Search(*probes, queries);
    auto seconds = g.candor->LastSearchGpuSeconds();
    if (!hits.ok() || !seconds.ok()) {
      state.SkipWithError(
          (hits.ok() ? seconds.status() : hits.status()).ToString().c_str());
      break;
    }
    state.SetIterationTime(*seconds);
    candor_seconds += *seconds;
    benchmark::DoNotOptimize(hits->data());
  }
  if (state.error_occurred() || state.iterations() == 0) return;
  candor_seconds /= static_cast<double>(state.iterations());

  double baseline_seconds = 0.0;
  for (int run = -1; run < kBaselineRuns; ++run) {
    auto seconds = g.baseline->Run(probes->data(), batch, k, kThreshold);
    if (!seconds.ok()) {
      state.SkipWithError(seconds.status().ToString().c_str());
      return;
    }
    if (run >= 0) baseline_seconds += *seconds / kBaselineRuns;
  }

  const double flops = 2.0 * static_cast<double>(rows) * batch * kDim;
  const double gallery_bytes = static_cast<double>(rows) * kDim * 2;
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["baseline_probes_per_s"] = batch / baseline_seconds;
  state.counters["vs_baseline"] = baseline_seconds / candor_seconds;
  state.counters["roofline_fraction"] =
      flops / candor_seconds / kPeakFp16FlopPerSecond;
  state.counters["hbm_read_multiple"] =
      candor_seconds / (gallery_bytes / kHbmBytesPerSecond);
  state.counters["device_bytes_per_entry"] =
      static_cast<double>(g.candor->memory().device_bytes) / rows;
  state.counters["tile_cols"] =
      static_cast<double>(g.candor->ScoreTileCols(batch));
#if defined(CANDOR_HAVE_FAISS_GPU)
  // FAISS's search is synchronous; its wall time is its GPU time plus a
  // little host work, an upper bound in FAISS's disfavour of a few µs.
  double faiss_seconds = 0.0;
  for (int run = -1; run < kBaselineRuns; ++run) {
    const auto start = std::chrono::steady_clock::now();
    auto hits = g.faiss->Search(*probes, queries);
    const auto end = std::chrono::steady_clock::now();
    if (!hits.ok()) {
      state.SkipWithError(hits.status().ToString().c_str());
      return;
    }
    if (run >= 0) {
      faiss_seconds +=
          std::chrono::duration<double>(end - start).count() / kBaselineRuns;
    }
  }
  state.counters["faiss_probes_per_s"] = batch / faiss_seconds;
  state.counters["vs_faiss"] = faiss_seconds / candor_seconds;
#endif
}

void BM_GpuSearch(benchmark::State& state) {
  RunSearch(state, state.range(0), state.range(1),
            static_cast<int>(state.range(2)));
}

// Small and quick: a 100k gallery, one batch size, k = 10.
void BM_GpuSearchSmoke(benchmark::State& state) {
  RunSearch(state, 100'000, 64, 10);
}

BENCHMARK(BM_GpuSearchSmoke)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GpuSearch)
    ->ArgNames({"N", "B", "k"})
    ->ArgsProduct({{1'000'000, 10'000'000}, {1, 64, 1024, 4096}, {10, 100}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace candor::bench

BENCHMARK_MAIN();
