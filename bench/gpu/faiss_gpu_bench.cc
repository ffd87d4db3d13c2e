// FAISS's GPU flat search on the benchmark's gallery, in its own process so
// that an abort inside FAISS cannot lose candor's figures (the device script
// runs it after candor_gpu_bench).
//
//   candor_faiss_gpu_bench [--rows N] [--dim D] [--batches 1,1024] [--k K]
//                          [--runs R]
//
// The gallery and probes are candor_gpu_bench's (GenerateUnitRowsDevice,
// seeds 1 and 7), stored in fp16 as candor stores them. FAISS 1.7.3's
// GpuIndexFlat indexes with 32-bit integers, so above 2^31 elements the
// gallery is split the way a FAISS 1.7.3 user would: faiss::IndexShards over
// several GpuIndexFlatIP parts on the one device (PlanFaissShards), whose
// results FAISS merges. Times are wall-clock times of FAISS's synchronous
// search (host probes in, host results out), averaged after one warm-up.
#include <faiss/IndexShards.h>
#include <faiss/gpu/GpuIndexFlat.h>
#include <faiss/gpu/StandardGpuResources.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "bench/gpu/faiss_shards.h"
#include "bench/gpu/synthetic_rows.h"
#include "kernels/cuda_raii.h"

namespace candor::bench {
namespace {

using kernels::DeviceBuffer;

constexpr int64_t kChunkRows = int64_t{1} << 20;

struct Args {
  int64_t rows = 10'000'000;
  int dim = 512;
  std::vector<int64_t> batches = {1, 1024};
  int k = 10;
  int runs = 3;
};

bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    bool ok = true;
    if (flag == "--rows") {
      ok = absl::SimpleAtoi(value, &args->rows);
    } else if (flag == "--dim") {
      ok = absl::SimpleAtoi(value, &args->dim);
    } else if (flag == "--k") {
      ok = absl::SimpleAtoi(value, &args->k);
    } else if (flag == "--runs") {
      ok = absl::SimpleAtoi(value, &args->runs);
    } else if (flag == "--batches") {
      args->batches.clear();
      for (absl::string_view b : absl::StrSplit(value, ',')) {
        int64_t n = 0;
        ok = ok && absl::SimpleAtoi(b, &n) && n > 0;
        args->batches.push_back(n);
      }
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "bad argument %s %s\n", flag.c_str(), value);
      return false;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr,
                 "usage: %s [--rows N] [--dim D] [--batches a,b] "
                 "[--k K] [--runs R]\n",
                 argv[0]);
    return false;
  }
  return args->rows > 0 && args->dim > 0 && args->k > 0 && args->runs > 0;
}

// Rows [first, first + n) of the generated gallery (or probes), on the host.
bool GenerateToHost(int64_t first, int64_t n, int dim, uint64_t seed,
                    DeviceBuffer<float>& device, std::vector<float>& host) {
  const absl::Status s =
      GenerateUnitRowsDevice(device.data(), n, dim, seed, first, nullptr);
  if (!s.ok()) {
    std::fprintf(stderr, "generate: %s\n", s.ToString().c_str());
    return false;
  }
  host.resize(static_cast<size_t>(n * dim));
  return cudaMemcpy(host.data(), device.data(), host.size() * sizeof(float),
                    cudaMemcpyDeviceToHost) == cudaSuccess;
}

int Run(const Args& args) {
  const FaissShardPlan plan = PlanFaissShards(args.rows, args.dim);
  std::printf(
      "faiss gpu: %lld x %d fp16, %d shard(s) of <= %lld rows%s\n",
      static_cast<long long>(args.rows), args.dim, plan.shards,
      static_cast<long long>(plan.rows_per_shard),
      plan.shards > 1 ? " (IndexShards: 32-bit indexing in 1.7.3)" : "");
  std::fflush(stdout);

  faiss::gpu::StandardGpuResources resources;
  faiss::gpu::GpuIndexFlatConfig config;
  config.device = 0;
  config.useFloat16 = true;
  std::vector<std::unique_ptr<faiss::gpu::GpuIndexFlatIP>> parts;
  for (int s = 0; s < plan.shards; ++s) {
    parts.push_back(std::make_unique<faiss::gpu::GpuIndexFlatIP>(
        &resources, args.dim, config));
  }
  auto chunk = DeviceBuffer<float>::Allocate(kChunkRows * args.dim);
  if (!chunk.ok()) {
    std::fprintf(stderr, "%s\n", chunk.status().ToString().c_str());
    return 1;
  }
  // Shard s holds rows [s * rows_per_shard, ...): with successive ids,
  // IndexShards offsets each shard's labels by the rows before it, so a
  // label is the gallery row.
  std::vector<float> host;
  const auto add_start = std::chrono::steady_clock::now();
  for (int s = 0; s < plan.shards; ++s) {
    const int64_t begin = s * plan.rows_per_shard;
    const int64_t end = std::min(args.rows, begin + plan.rows_per_shard);
    for (int64_t first = begin; first < end; first += kChunkRows) {
      const int64_t n = std::min(kChunkRows, end - first);
      if (!GenerateToHost(first, n, args.dim, /*seed=*/1, *chunk, host)) {
        return 1;
      }
      parts[s]->add(n, host.data());
    }
  }
  faiss::IndexShards shards(args.dim, /*threaded=*/false,
                            /*successive_ids=*/true);
  for (auto& part : parts) shards.add_shard(part.get());
  shards.syncWithSubIndexes();
  faiss::Index& index = plan.shards > 1 ? static_cast<faiss::Index&>(shards)
                                        : static_cast<faiss::Index&>(*parts[0]);
  std::printf("faiss gpu: added %lld rows in %.1f s\n",
              static_cast<long long>(index.ntotal),
              std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                            add_start)
                  .count());
  std::fflush(stdout);

  for (int64_t batch : args.batches) {
    std::vector<float> probes;
    auto probe_buffer = DeviceBuffer<float>::Allocate(batch * args.dim);
    if (!probe_buffer.ok() || !GenerateToHost(0, batch, args.dim, /*seed=*/7,
                                              *probe_buffer, probes)) {
      return 1;
    }
    std::vector<float> distances(static_cast<size_t>(batch) * args.k);
    std::vector<int64_t> labels(static_cast<size_t>(batch) * args.k);
    double seconds = 0.0;
    for (int run = -1; run < args.runs; ++run) {
      const auto start = std::chrono::steady_clock::now();
      index.search(batch, probes.data(), args.k, distances.data(),
                   labels.data());
      const auto end = std::chrono::steady_clock::now();
      if (run >= 0)
        seconds += std::chrono::duration<double>(end - start).count();
    }
    seconds /= args.runs;
    std::printf(
        "faiss_gpu N=%lld d=%d shards=%d B=%lld k=%d: %.3f ms, %.0f probes/s; "
        "probe 0 top: id %lld score %.4f\n",
        static_cast<long long>(args.rows), args.dim, plan.shards,
        static_cast<long long>(batch), args.k, seconds * 1e3, batch / seconds,
        static_cast<long long>(labels[0] + 1), distances[0]);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace candor::bench

int main(int argc, char** argv) {
  candor::bench::Args args;
  if (!candor::bench::ParseArgs(argc, argv, &args)) return 2;
  try {
    return candor::bench::Run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "faiss error: %s\n", e.what());
    return 1;
  }
}
