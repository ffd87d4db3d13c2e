// candor-bf16-bench: a bf16 gallery against an fp32 gallery on the same
// rows, as the server builds them (index_factory, backend cpu): probes/s of
// each, measured in alternating rounds so that load from other processes
// falls on both alike; answers compared on every probe (candidates, order,
// scores; any difference is a mismatch); host bytes per entry of each
// index. Prints the CPU model and flags, the bf16 kernel, the fp32 GEMM
// library and the load average before and after.
//
//   candor-bf16-bench [--entries=100000] [--dim=512] [--batch=256]
//     [--top_k=10] [--threshold=-1] [--rounds=5] [--check_probes=10000]
//     [--kernel=auto|amx_bf16|avx512_bf16|avx2|scalar]
//
// Lines starting "RESULT " are for scripts: key=value pairs.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "bench/common/gaussian_rows.h"
#include "bench/gemm/bench_output.h"
#include "server/index/bf16_flat_index.h"
#include "server/index/cpu_blas.h"
#include "server/index/index_factory.h"

ABSL_FLAG(int64_t, entries, 100000, "gallery rows");
ABSL_FLAG(int, dim, 512, "dimension");
ABSL_FLAG(int, batch, 256, "probes per Search call");
ABSL_FLAG(int, top_k, 10, "top_k of every probe");
ABSL_FLAG(double, threshold, -1.0, "threshold of every probe");
ABSL_FLAG(int, rounds, 5, "timed rounds per index (alternating)");
ABSL_FLAG(int, check_probes, 10000, "probes whose answers are compared");
ABSL_FLAG(std::string, kernel, "auto",
          "bf16 kernel: auto (the CPU's best), amx_bf16, avx512_bf16, avx2, "
          "scalar");

namespace candor::bench {
namespace {

using index::Backend;
using index::IndexConfig;
using index::Precision;

// The bf16 index as index_factory.cc builds it, with another kernel.
absl::StatusOr<std::unique_ptr<index::Index>> Bf16WithKernel(
    int dim, index::Bf16Kernel kernel) {
  index::Bf16FlatIndexOptions options;
  options.dimension = dim;
  options.kernel = kernel;
  options.fp32_scores = [](int m, int n, int k, const float* probes,
                           const float* rows, float* c) {
    index::ServingBlas().Scores(m, n, k, probes, k, rows, k, c, n);
  };
  options.fp32_scores_small_madds = 1000000;
  auto bf16 = index::Bf16FlatIndex::Create(options);
  if (!bf16.ok()) return bf16.status();
  return std::unique_ptr<index::Index>(*std::move(bf16));
}

double Seconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int Run() {
  const int64_t n = absl::GetFlag(FLAGS_entries);
  const int dim = absl::GetFlag(FLAGS_dim);
  const int batch = absl::GetFlag(FLAGS_batch);
  const int rounds = absl::GetFlag(FLAGS_rounds);
  std::printf("cpu: %s\nsimd flags: %s\ncores: %ld\nload average before: %s\n",
              CpuModel().c_str(), CpuFlags().c_str(),
              sysconf(_SC_NPROCESSORS_ONLN), LoadAverage().c_str());
  index::Bf16Kernel kernel = index::BestBf16Kernel();
  const std::string kernel_flag = absl::GetFlag(FLAGS_kernel);
  if (kernel_flag != "auto") {
    bool known = false;
    for (index::Bf16Kernel k :
         {index::Bf16Kernel::kScalar, index::Bf16Kernel::kAvx2,
          index::Bf16Kernel::kAvx512Bf16, index::Bf16Kernel::kAmxBf16}) {
      if (kernel_flag == index::Bf16KernelName(k)) {
        kernel = k;
        known = true;
      }
    }
    if (!known) {
      std::fprintf(stderr, "unknown --kernel=%s\n", kernel_flag.c_str());
      return 1;
    }
  }
  std::printf("bf16 kernel: %s\nfp32 GEMM: %s\n", index::Bf16KernelName(kernel),
              index::ServingBlas().info().Describe().c_str());

  std::mt19937 rng(20260101);
  const std::vector<float> gallery = GaussianRowsFrom(n, dim, rng, true);
  std::vector<EntryId> ids(n);
  std::iota(ids.begin(), ids.end(), EntryId{1});

  IndexConfig config;
  config.dimension = dim;
  auto fp32 = index::CreateIndex(config, Backend::kCpu);
  config.precision = Precision::kBf16;
  auto bf16 = kernel_flag == "auto" ? index::CreateIndex(config, Backend::kCpu)
                                    : Bf16WithKernel(dim, kernel);
  if (!fp32.ok() || !bf16.ok()) {
    std::fprintf(stderr, "cannot create: %s %s\n",
                 fp32.status().ToString().c_str(),
                 bf16.status().ToString().c_str());
    return 1;
  }
  if (!(*fp32)->Add(ids, gallery).ok() || !(*bf16)->Add(ids, gallery).ok()) {
    std::fprintf(stderr, "Add failed\n");
    return 1;
  }
  // The bf16 index here keeps its own fp32 copy (no gallery to read from):
  // its bf16 bytes alone are what a gallery's index holds.
  const double fp32_bytes = double((*fp32)->memory().host_bytes) / n;
  const double bf16_all = double((*bf16)->memory().host_bytes) / n;
  const double bf16_bytes = bf16_all - 4.0 * dim;

  ProbeQuery query;
  query.top_k = absl::GetFlag(FLAGS_top_k);
  query.threshold = static_cast<float>(absl::GetFlag(FLAGS_threshold));
  const std::vector<ProbeQuery> queries(batch, query);

  // Answers on check_probes probes, in batches.
  const int check = absl::GetFlag(FLAGS_check_probes);
  const std::vector<float> probes = GaussianRowsFrom(check, dim, rng, true);
  int64_t mismatches = 0, hits = 0;
  for (int p0 = 0; p0 < check; p0 += batch) {
    const int m = std::min(batch, check - p0);
    absl::Span<const float> span(probes.data() + int64_t(p0) * dim,
                                 int64_t(m) * dim);
    absl::Span<const ProbeQuery> qs(queries.data(), m);
    auto a = (*fp32)->Search(span, qs);
    auto b = (*bf16)->Search(span, qs);
    if (!a.ok() || !b.ok()) return 1;
    for (int j = 0; j < m; ++j) {
      hits += (*a)[j].size();
      if ((*a)[j] != (*b)[j]) ++mismatches;
    }
  }

  // Throughput, alternating rounds of a few batches each (at least 512
  // probes a round, so that small batches are timed over more than a few
  // milliseconds).
  const int per_round =
      std::max(1, std::min(check / batch, std::max(8, 512 / batch)));
  std::vector<double> fp32_rate, bf16_rate;
  for (int r = 0; r < rounds; ++r) {
    for (int which = 0; which < 2; ++which) {
      const index::Index& idx = which == 0 ? **fp32 : **bf16;
      const double t0 = Seconds();
      for (int b = 0; b < per_round; ++b) {
        absl::Span<const float> span(probes.data() + int64_t(b) * batch * dim,
                                     int64_t(batch) * dim);
        if (!idx.Search(span, queries).ok()) return 1;
      }
      const double rate = double(per_round) * batch / (Seconds() - t0);
      (which == 0 ? fp32_rate : bf16_rate).push_back(rate);
    }
  }
  std::vector<double> ratios;
  for (int r = 0; r < rounds; ++r)
    ratios.push_back(bf16_rate[r] / fp32_rate[r]);
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double flops = 2.0 * n * dim;
  std::printf(
      "batch %d, %d batches a round\n"
      "fp32: %.0f probes/s (%.0f GFLOP/s), %.1f bytes/entry\n"
      "bf16: %.0f probes/s (%.0f GFLOP/s equivalent), %.1f bytes/entry "
      "(index only; the gallery's fp32 copy is apart)\n"
      "ratio bf16/fp32 (median of %d paired rounds): %.2fx\n"
      "answers compared: %d probes, %lld hits, %lld mismatches\n"
      "load average after: %s\n",
      batch, per_round, median(fp32_rate), median(fp32_rate) * flops / 1e9,
      fp32_bytes, median(bf16_rate), median(bf16_rate) * flops / 1e9,
      bf16_bytes, rounds, median(ratios), check, static_cast<long long>(hits),
      static_cast<long long>(mismatches), LoadAverage().c_str());
  std::printf(
      "RESULT kernel=%s fp32_probes_per_s=%.0f bf16_probes_per_s=%.0f "
      "ratio=%.3f mismatches=%lld probes_checked=%d fp32_bytes_per_entry=%.1f "
      "bf16_bytes_per_entry=%.1f\n",
      index::Bf16KernelName(kernel), median(fp32_rate), median(bf16_rate),
      median(ratios), static_cast<long long>(mismatches), check, fp32_bytes,
      bf16_bytes);
  return mismatches == 0 ? 0 : 2;
}

}  // namespace
}  // namespace candor::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return candor::bench::Run();
}
