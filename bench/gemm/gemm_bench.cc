// candor-gemm-bench: the score matrix of flat search (batch x entries x
// dimension, row-major, probes times gallery transposed) computed by each
// single-precision GEMM this machine can load, and, with --flat, candor's
// in-process flat searches on the same rows. Prints the machine (CPU model
// and flags, load average, OPENBLAS_CORETYPE), then one line per candidate:
// library, version, kernel set, probes/s, GFLOP/s and the largest error
// against a float64 oracle on sampled scores (a GEMM off by more than
// 1e-4 is marked WRONG and its figures do not count). With --bf16, the
// bf16 flat index as the server builds it (fp32 rescoring included), its
// memory and the process's peak resident memory; next to --flat its
// answers must equal cpu-flat's.
//
//   candor-gemm-bench [--entries=100000] [--dim=512] [--batch=256]
//     [--top_k=10] [--threads=N] [--reps=5] [--flat] [--bf16]
//     [--candidates=scipy-openblas,openblas,blis,mkl] [--mkl=PATH]
//     [--blis=PATH] [--keep_coretype]
//
// The fp32 gallery is held whole only for what needs it (a GEMM candidate,
// --flat). `--bf16 --candidates=` alone makes the gallery in chunks into
// the bf16 index and makes again the rows it rescores (bench_gallery.h):
// 10M x 512 then peaks near the index's 10 GiB, where the fp32 rows alone
// would be 20.
//
// Lines starting "RESULT " are for scripts (bench/cpu_limit.sh): key=value
// pairs. --keep_coretype loads scipy-openblas under OPENBLAS_CORETYPE as the
// process found it (what linking it directly would do), to measure what
// hiding the variable is worth.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_split.h"
#include "bench/common/gaussian_rows.h"
#include "bench/gemm/bench_gallery.h"
#include "bench/gemm/bench_output.h"
#include "bench/gemm/flat_timing.h"
#include "server/index/cpu_blas.h"
#include "server/index/cpu_flat_index.h"
#include "server/index/faiss_flat_index.h"

ABSL_FLAG(int64_t, entries, 100000, "gallery rows");
ABSL_FLAG(int, dim, 512, "dimension");
ABSL_FLAG(int, batch, 256, "probes per call");
ABSL_FLAG(int, top_k, 10, "top_k of the flat searches (--flat)");
ABSL_FLAG(int, threads, 0, "BLAS threads (0 = every core)");
ABSL_FLAG(int, reps, 5, "timed calls per candidate (the best counts)");
ABSL_FLAG(bool, flat, false,
          "also time candor's flat searches (cpu-flat, faiss-cpu)");
ABSL_FLAG(int, paired, 0,
          "with --flat: rounds alternating the serving GEMM (one call, "
          "every thread) and a cpu-flat search; prints the median of the "
          "rounds' ratios, which the machine's load moves far less than "
          "figures timed minutes apart");
ABSL_FLAG(bool, faiss, true, "with --flat: FAISS's flat index too");
ABSL_FLAG(bool, bf16, false,
          "also time the bf16 flat index (cpu-bf16, as the server builds "
          "it); with no GEMM candidate and no --flat, without ever holding "
          "the fp32 gallery whole");
ABSL_FLAG(int64_t, add_chunk_rows, 65536,
          "--bf16 without the fp32 gallery: at most this many rows made "
          "and added per Add call");
ABSL_FLAG(std::string, candidates, "scipy-openblas,openblas,blis,mkl",
          "GEMMs to time, those that load");
ABSL_FLAG(std::string, blis, "/usr/lib/x86_64-linux-gnu/libblis.so.4",
          "BLIS shared library (Debian libblis4)");
ABSL_FLAG(std::string, mkl, "", "oneMKL's libmkl_rt.so.2 (PyPI mkl)");
ABSL_FLAG(int, tile_rows, 0, "cpu-flat's gallery rows per GEMM (0 = its own)");
ABSL_FLAG(bool, keep_coretype, false,
          "load scipy-openblas under OPENBLAS_CORETYPE as found");

namespace candor::bench {
namespace {

// Largest |gemm - float64| over sampled cells.
double OracleError(const std::vector<float>& probes,
                   const std::vector<float>& gallery,
                   const std::vector<float>& scores, int64_t batch,
                   int64_t entries, int dim) {
  std::mt19937_64 rng(99);
  double worst = 0;
  for (int s = 0; s < 256; ++s) {
    const int64_t i = static_cast<int64_t>(rng() % batch);
    // The last column and row too: edge tiles use other kernels.
    const int64_t j = s == 0 ? entries - 1 : static_cast<int64_t>(rng() % entries);
    double dot = 0;
    for (int c = 0; c < dim; ++c) {
      dot += double{probes[i * dim + c]} * double{gallery[j * dim + c]};
    }
    worst = std::max(worst, std::abs(dot - double{scores[i * entries + j]}));
  }
  return worst;
}

struct Candidate {
  std::string name;
  std::unique_ptr<index::CpuBlas> blas;
};

std::vector<Candidate> LoadCandidates(const std::set<std::string>& wanted) {
  std::vector<Candidate> out;
  auto add = [&](const std::string& name,
                 absl::StatusOr<std::unique_ptr<index::CpuBlas>> blas) {
    if (!blas.ok()) {
      std::printf("skip   %-16s %s\n", name.c_str(),
                  std::string(blas.status().message()).c_str());
      return;
    }
    out.push_back({name, *std::move(blas)});
  };
  using Flavor = index::CpuBlas::Flavor;
  if (wanted.count("scipy-openblas")) {
    if (index::BuiltScipyOpenBlasPath().empty()) {
      std::printf("skip   scipy-openblas   not found at build time\n");
    } else {
      add("scipy-openblas",
          index::CpuBlas::Load(Flavor::kOpenBlas,
                               index::BuiltScipyOpenBlasPath(), "scipy_",
                               !absl::GetFlag(FLAGS_keep_coretype)));
    }
  }
  if (wanted.count("openblas")) {
    // The OpenBLAS FAISS links (Debian's), already loaded.
    add("openblas", index::CpuBlas::Load(Flavor::kOpenBlas, "", "", false));
  }
  if (wanted.count("blis") && access(absl::GetFlag(FLAGS_blis).c_str(), R_OK) == 0) {
    add("blis", index::CpuBlas::Load(Flavor::kBlis, absl::GetFlag(FLAGS_blis),
                                     "", false));
  }
  if (wanted.count("mkl") && !absl::GetFlag(FLAGS_mkl).empty()) {
    add("mkl", index::CpuBlas::Load(Flavor::kMkl, absl::GetFlag(FLAGS_mkl), "",
                                    false));
  }
  return out;
}

int Run() {
  const int64_t entries = absl::GetFlag(FLAGS_entries);
  const int dim = absl::GetFlag(FLAGS_dim);
  const int64_t batch = absl::GetFlag(FLAGS_batch);
  const int reps = std::max(1, absl::GetFlag(FLAGS_reps));
  int threads = absl::GetFlag(FLAGS_threads);
  if (threads <= 0) threads = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  if (entries <= 0 || dim <= 0 || batch <= 0) {
    std::fprintf(stderr, "entries, dim and batch must be positive\n");
    return 2;
  }

  const char* forced = std::getenv("OPENBLAS_CORETYPE");
  std::printf("cpu: %s\nflags: %s\nload average: %s\nOPENBLAS_CORETYPE: %s\n",
              CpuModel().c_str(), CpuFlags().c_str(), LoadAverage().c_str(),
              forced ? forced : "(unset)");
  std::printf("shape: batch %lld x entries %lld x dim %d, threads %d\n",
              static_cast<long long>(batch), static_cast<long long>(entries),
              dim, threads);
  std::printf("RESULT kind=machine cpu=\"%s\" flags=\"%s\" load=\"%s\" "
              "coretype=\"%s\"\n",
              CpuModel().c_str(), CpuFlags().c_str(), LoadAverage().c_str(),
              forced ? forced : "");

  std::set<std::string> wanted;
  for (absl::string_view c :
       absl::StrSplit(absl::GetFlag(FLAGS_candidates), ',', absl::SkipEmpty())) {
    wanted.emplace(c);
  }
  const bool flat = absl::GetFlag(FLAGS_flat);
  // The gallery's rows depend on (seed, row) only: the same rows whether
  // held whole or made in chunks (bench_gallery.h).
  constexpr uint64_t kGallerySeed = 2024;
  std::vector<float> gallery;
  if (!wanted.empty() || flat) {
    gallery.resize(static_cast<size_t>(entries) * dim);
    MakeGalleryRows(kGallerySeed, 0, entries, dim, threads, gallery.data());
  }
  std::mt19937_64 rng(2025);
  const std::vector<float> probes = GaussianRowsFrom(batch, dim, rng, true);
  std::vector<float> scores;

  for (Candidate& c : LoadCandidates(wanted)) {
    scores.resize(static_cast<size_t>(batch * entries));
    c.blas->SetThreads(threads);
    const auto gemm = [&] {
      c.blas->Scores(static_cast<int>(batch), static_cast<int>(entries), dim,
                     probes.data(), dim, gallery.data(), dim, scores.data(),
                     static_cast<int>(entries));
    };
    gemm();  // warm: thread pool, page faults
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
      Pause();
      const auto start = Clock::now();
      gemm();
      best = std::min(best, Seconds(start));
    }
    const double error =
        OracleError(probes, gallery, scores, batch, entries, dim);
    const index::BlasInfo& info = c.blas->info();
    std::string detail = info.Describe();
    if (info.read_forced_core) detail += " (forced core)";
    PrintResult("gemm", c.name, detail, best, batch, entries, dim, error,
                c.blas->threads());
  }

  const int top_k = absl::GetFlag(FLAGS_top_k);
  const std::vector<ProbeQuery> queries(batch, ProbeQuery{0.0f, top_k});
  std::optional<index::SearchHits> cpu_flat_hits;
  if (flat) {
    // As the server runs it: scipy-openblas single-threaded under the
    // index's own workers (the fallback OpenBLAS keeps its threads).
    if (index::ServingBlas().info().library == "scipy-openblas") {
      index::ServingBlas().SetThreads(1);
    }
    index::SetCpuFlatThreads(threads);
    std::vector<EntryId> ids(entries);
    std::iota(ids.begin(), ids.end(), 1);
    const HeldRows rows(gallery.data(), dim);
    auto time_index =
        [&](const std::string& name,
            index::Index& idx) -> std::optional<index::SearchHits> {
      if (absl::Status s = idx.Add(ids, gallery); !s.ok()) {
        std::printf("skip   %-16s %s\n", name.c_str(), s.ToString().c_str());
        return std::nullopt;
      }
      double best = 0;
      auto first = TimeSearch(idx, probes, queries, reps, &best);
      if (!first.ok()) {
        std::printf("skip   %-16s %s\n", name.c_str(),
                    first.status().ToString().c_str());
        return std::nullopt;
      }
      PrintResult(
          "flat", name, idx.backend() + " top_k " + std::to_string(top_k), best,
          batch, entries, dim, TopHitError(*first, probes, rows, dim), threads);
      return *std::move(first);
    };
    {
      index::CpuFlatIndex::Options options;
      options.tile_rows = absl::GetFlag(FLAGS_tile_rows);
      auto cpu = index::CpuFlatIndex::Create(dim, options);
      if (cpu.ok()) cpu_flat_hits = time_index("cpu-flat", **cpu);
      const int rounds = absl::GetFlag(FLAGS_paired);
      if (cpu_flat_hits && rounds > 0) {
        scores.resize(static_cast<size_t>(batch * entries));
        const index::CpuBlas& blas = index::ServingBlas();
        std::vector<double> ratios;
        double best_gemm = 1e30, best_flat = 1e30;
        for (int r = 0; r < rounds; ++r) {
          blas.SetThreads(threads);
          Pause();
          auto start = Clock::now();
          blas.Scores(static_cast<int>(batch), static_cast<int>(entries), dim,
                      probes.data(), dim, gallery.data(), dim, scores.data(),
                      static_cast<int>(entries));
          const double gemm = Seconds(start);
          // As the server runs it (see above).
          if (blas.info().library == "scipy-openblas") blas.SetThreads(1);
          Pause();
          start = Clock::now();
          auto hits = (*cpu)->Search(probes, queries);
          const double flat_s = Seconds(start);
          if (!hits.ok()) break;
          ratios.push_back(gemm / flat_s);  // flat probes/s over GEMM probes/s
          best_gemm = std::min(best_gemm, gemm);
          best_flat = std::min(best_flat, flat_s);
        }
        if (!ratios.empty()) {
          std::sort(ratios.begin(), ratios.end());
          const double median = ratios[ratios.size() / 2];
          std::printf(
              "paired cpu-flat / serving GEMM over %zu rounds: median %.3f "
              "(range %.3f to %.3f), best vs best %.3f\n",
              ratios.size(), median, ratios.front(), ratios.back(),
              best_gemm / best_flat);
          std::printf("RESULT kind=paired name=cpu-flat median=%.4f best=%.4f "
                      "rounds=%zu\n",
                      median, best_gemm / best_flat, ratios.size());
        }
      }
    }
    if (absl::GetFlag(FLAGS_faiss)) {
      auto faiss = index::FaissFlatIndex::Create(dim);
      if (faiss.ok()) time_index("faiss-cpu", **faiss);
    }
  }
  std::vector<float>().swap(scores);
  if (absl::GetFlag(FLAGS_bf16)) {
    Bf16Run run;
    run.gallery = gallery.empty() ? nullptr : &gallery;
    run.seed = kGallerySeed;
    run.add_chunk_rows = absl::GetFlag(FLAGS_add_chunk_rows);
    run.entries = entries;
    run.dim = dim;
    run.reps = reps;
    run.threads = threads;
    run.fp32_hits = cpu_flat_hits ? &*cpu_flat_hits : nullptr;
    TimeBf16(run, probes, queries);
  }
  if (flat || absl::GetFlag(FLAGS_bf16)) {
    std::printf("serving GEMM: %s\n",
                index::ServingBlas().info().Describe().c_str());
  }
  std::printf("load average after: %s\n", LoadAverage().c_str());
  return 0;
}

}  // namespace
}  // namespace candor::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return candor::bench::Run();
}
