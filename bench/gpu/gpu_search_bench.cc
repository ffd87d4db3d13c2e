// GPU flat-search benchmark: candor's fused search (GpuFlatIndex) against the
// plain cuBLAS + HBM score matrix baseline, over device-generated galleries.
// FAISS runs in its own process (candor_faiss_gpu_bench), so that an abort
// there cannot lose these figures.
//
// Times are GPU times from CUDA events (probe upload to result download).
// Counters: items_per_second = probes/s of candor's search;
// baseline_probes_per_s and vs_baseline (baseline time / candor time);
// roofline_fraction = 2*N*B*d flop / time / the device's dense fp16 peak;
// hbm_read_multiple = time / (gallery bytes / nominal bandwidth) and
// hbm_read_multiple_measured against the device-to-device copy measured at
// start (both bandwidths are printed then), the batch-1 target being <= 1.2;
// gemm_only_ms: the same tile loop without the selection, and
// selection_share = 1 - gemm_only / candor; no_skip_ms: the search with the
// selection's unchanged-list sort skip turned off; the tile plan: l2_MiB,
// l2_fraction, tile_cols, tiles, splits; device_bytes_per_entry.
//
// Quick smoke run: --benchmark_filter=Smoke. The score-tile sweep:
// --benchmark_filter=TileSweep.
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bench/gpu/baseline_search.h"
#include "bench/gpu/device_peaks.h"
#include "bench/gpu/synthetic_rows.h"
#include "benchmark/benchmark.h"
#include "kernels/cuda_raii.h"
#include "kernels/half_convert_device.h"
#include "server/index/gpu/gpu_flat_index.h"

namespace candor::bench {
namespace {

using kernels::CudaEvent;
using kernels::DeviceBuffer;

constexpr int kDim = 512;
// Used for a device missing from the peak table: the H100 SXM's.
constexpr double kDefaultFp16FlopPerSecond = 989e12;
// The device-to-device copy measured at start: 1 GiB, copied 10 times.
constexpr int64_t kCopyBytes = int64_t{1} << 30;
constexpr int kCopyRuns = 10;
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

// What the run knows of its device, filled once by main().
struct DeviceInfo {
  std::string name;
  int64_t l2_bytes = 0;
  std::optional<DevicePeaks> peaks;      // nominal, from the table
  double measured_bytes_per_second = 0;  // device-to-device copy
};
DeviceInfo& Info() {
  static DeviceInfo info;
  return info;
}

// Bytes read plus bytes written per second of a large device-to-device
// copy: what HBM delivers to a streaming kernel in practice.
absl::StatusOr<double> MeasureCopyBandwidth() {
  auto src = DeviceBuffer<uint8_t>::Allocate(kCopyBytes);
  if (!src.ok()) return src.status();
  auto dst = DeviceBuffer<uint8_t>::Allocate(kCopyBytes);
  if (!dst.ok()) return dst.status();
  auto start = CudaEvent::Create(/*timing=*/true);
  auto end = CudaEvent::Create(/*timing=*/true);
  if (!start.ok()) return start.status();
  if (!end.ok()) return end.status();
  CUDA_RETURN_IF_ERROR(cudaMemset(src->data(), 1, kCopyBytes));
  CUDA_RETURN_IF_ERROR(cudaMemcpy(dst->data(), src->data(), kCopyBytes,
                                  cudaMemcpyDeviceToDevice));  // warm-up
  CUDA_RETURN_IF_ERROR(cudaEventRecord(start->get(), nullptr));
  for (int i = 0; i < kCopyRuns; ++i) {
    CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(dst->data(), src->data(), kCopyBytes,
                                         cudaMemcpyDeviceToDevice, nullptr));
  }
  CUDA_RETURN_IF_ERROR(cudaEventRecord(end->get(), nullptr));
  CUDA_RETURN_IF_ERROR(cudaEventSynchronize(end->get()));
  float ms = 0.0f;
  CUDA_RETURN_IF_ERROR(cudaEventElapsedTime(&ms, start->get(), end->get()));
  return 2.0 * kCopyBytes * kCopyRuns / (ms * 1e-3);
}

// Prints the device, its L2, the nominal and the measured bandwidth.
void DescribeDevice() {
  if (!HaveDevice()) {
    std::printf("no CUDA device: every benchmark will be skipped\n");
    return;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return;
  DeviceInfo& info = Info();
  info.name = prop.name;
  info.l2_bytes = prop.l2CacheSize;
  info.peaks = PeaksForDevice(info.name);
  auto measured = MeasureCopyBandwidth();
  info.measured_bytes_per_second = measured.ok() ? *measured : 0.0;
  std::printf("device: %s, %d SMs, L2 %.1f MiB\n", prop.name,
              prop.multiProcessorCount, info.l2_bytes / 1048576.0);
  if (info.peaks.has_value()) {
    std::printf("nominal (table, %s): HBM %.2f TB/s, fp16 dense %.0f TFLOP/s\n",
                info.peaks->model.c_str(),
                info.peaks->hbm_bytes_per_second / 1e12,
                info.peaks->fp16_flop_per_second / 1e12);
  } else {
    std::printf("nominal: %s is not in the peak table\n", prop.name);
  }
  if (measured.ok()) {
    std::printf("measured device-to-device copy: %.2f TB/s (read + write)\n",
                *measured / 1e12);
  } else {
    std::printf("measured copy failed: %s\n",
                measured.status().ToString().c_str());
  }
}

// One gallery at a time lives on the device (10M x 512 is 10 GB in fp16
// per copy); a request for another size frees the current one first.
struct Gallery {
  int64_t rows = 0;
  std::unique_ptr<index::gpu::GpuFlatIndex> candor;
  DeviceBuffer<uint16_t> half_rows;  // the baseline's own copy
  std::unique_ptr<BaselineSearch> baseline;
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

// Mean GPU seconds of `runs` searches after one warm-up, under `tuning`.
absl::StatusOr<double> TimeTuned(
    index::gpu::GpuFlatIndex& index, const std::vector<float>& probes,
    const std::vector<ProbeQuery>& queries,
    const index::gpu::GpuFlatIndex::SearchTuning& tuning, int runs) {
  index.SetSearchTuning(tuning);
  double total = 0.0;
  for (int run = -1; run < runs; ++run) {
    auto hits = index.Search(probes, queries);
    if (!hits.ok()) return hits.status();
    auto seconds = index.LastSearchGpuSeconds();
    if (!seconds.ok()) return seconds.status();
    if (run >= 0) total += *seconds;
  }
  return total / runs;
}

// l2_fraction 0: the index's default. with_baseline: also time the HBM
// baseline (the sweep skips it: it does not depend on the tiles).
void RunSearch(benchmark::State& state, int64_t rows, int64_t batch, int k,
               double l2_fraction, bool with_baseline) {
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
  index::gpu::GpuFlatIndex::SearchTuning tuning;
  tuning.l2_fraction = l2_fraction;
  g.candor->SetSearchTuning(tuning);
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

  // Where the time goes: the GEMMs alone, and the search without the
  // unchanged-list sort skip.
  index::gpu::GpuFlatIndex::SearchTuning gemm_only = tuning;
  gemm_only.select = false;
  index::gpu::GpuFlatIndex::SearchTuning no_skip = tuning;
  no_skip.skip_unchanged_sort = false;
  auto gemm_seconds =
      TimeTuned(*g.candor, *probes, queries, gemm_only, kBaselineRuns);
  auto no_skip_seconds =
      TimeTuned(*g.candor, *probes, queries, no_skip, kBaselineRuns);
  g.candor->SetSearchTuning({});
  if (!gemm_seconds.ok() || !no_skip_seconds.ok()) {
    state.SkipWithError(
        (gemm_seconds.ok() ? no_skip_seconds.status() : gemm_seconds.status())
            .ToString()
            .c_str());
    return;
  }

  if (with_baseline) {
    double baseline_seconds = 0.0;
    for (int run = -1; run < kBaselineRuns; ++run) {
      auto seconds = g.baseline->Run(probes->data(), batch, k, kThreshold);
      if (!seconds.ok()) {
        state.SkipWithError(seconds.status().ToString().c_str());
        return;
      }
      if (run >= 0) baseline_seconds += *seconds / kBaselineRuns;
    }
    state.counters["baseline_probes_per_s"] = batch / baseline_seconds;
    state.counters["vs_baseline"] = baseline_seconds / candor_seconds;
  }

  const DeviceInfo& info = Info();
  const double flops = 2.0 * static_cast<double>(rows) * batch * kDim;
  const double gallery_bytes = static_cast<double>(rows) * kDim * 2;
  const double peak_flops = info.peaks.has_value()
                                ? info.peaks->fp16_flop_per_second
                                : kDefaultFp16FlopPerSecond;
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["roofline_fraction"] = flops / candor_seconds / peak_flops;
  if (info.peaks.has_value()) {
    state.counters["hbm_read_multiple"] =
        candor_seconds / (gallery_bytes / info.peaks->hbm_bytes_per_second);
  }
  if (info.measured_bytes_per_second > 0) {
    state.counters["hbm_read_multiple_measured"] =
        candor_seconds / (gallery_bytes / info.measured_bytes_per_second);
  }
  state.counters["gemm_only_ms"] = *gemm_seconds * 1e3;
  state.counters["selection_share"] = 1.0 - *gemm_seconds / candor_seconds;
  state.counters["no_skip_ms"] = *no_skip_seconds * 1e3;
  state.counters["device_bytes_per_entry"] =
      static_cast<double>(g.candor->memory().device_bytes) / rows;
  g.candor->SetSearchTuning(tuning);
  const kernels::ScoreTilePlan plan = g.candor->TilePlan(batch, k);
  g.candor->SetSearchTuning({});
  state.counters["l2_MiB"] = plan.l2_cache_bytes / 1048576.0;
  state.counters["l2_fraction"] =
      static_cast<double>(plan.budget_bytes) / plan.l2_cache_bytes;
  state.counters["tile_cols"] = static_cast<double>(plan.tile_cols);
  state.counters["tiles"] = static_cast<double>(plan.num_tiles);
  state.counters["splits"] = plan.splits;
  state.SetLabel(absl::StrCat("L2 ", plan.l2_cache_bytes / 1048576, " MiB, ",
                              plan.tile_cols, " cols x ", plan.num_tiles,
                              " tiles, ", plan.splits, " splits"));
}

void BM_GpuSearch(benchmark::State& state) {
  RunSearch(state, state.range(0), state.range(1),
            static_cast<int>(state.range(2)), /*l2_fraction=*/0.0,
            /*with_baseline=*/true);
}

// Small and quick: a 100k gallery, one batch size, k = 10.
void BM_GpuSearchSmoke(benchmark::State& state) {
  RunSearch(state, 100'000, 64, 10, 0.0, true);
}

// The score-tile budget as a share of L2 (percent), at 10M / batch 1024.
void BM_GpuTileSweep(benchmark::State& state) {
  RunSearch(state, state.range(0), state.range(1),
            static_cast<int>(state.range(2)),
            static_cast<double>(state.range(3)) / 100.0,
            /*with_baseline=*/false);
}

BENCHMARK(BM_GpuSearchSmoke)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GpuSearch)
    ->ArgNames({"N", "B", "k"})
    ->ArgsProduct({{1'000'000, 10'000'000}, {1, 64, 1024, 4096}, {10, 100}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GpuTileSweep)
    ->ArgNames({"N", "B", "k", "l2pct"})
    ->ArgsProduct({{10'000'000}, {1024}, {10}, {80, 35, 15}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace candor::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  candor::bench::DescribeDevice();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
