// candor-gemm-bench: the score matrix of flat search (batch x entries x
// dimension, row-major, probes times gallery transposed) computed by each
// single-precision GEMM this machine can load, and, with --flat, candor's
// in-process flat searches on the same rows. Prints the machine (CPU model
// and flags, load average, OPENBLAS_CORETYPE), then one line per candidate:
// library, version, kernel set, probes/s, GFLOP/s and the largest error
// against a float64 oracle on sampled scores (a GEMM off by more than
// 1e-4 is marked WRONG and its figures do not count).
//
//   candor-gemm-bench [--entries=100000] [--dim=512] [--batch=256]
//     [--top_k=10] [--threads=N] [--reps=5] [--flat]
//     [--candidates=scipy-openblas,openblas,blis,mkl] [--mkl=PATH]
//     [--blis=PATH] [--keep_coretype]
//
// Lines starting "RESULT " are for scripts (bench/cpu_limit.sh): key=value
// pairs. --keep_coretype loads scipy-openblas under OPENBLAS_CORETYPE as the
// process found it (what linking it directly would do), to measure what
// hiding the variable is worth.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/common/gaussian_rows.h"
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

using Clock = std::chrono::steady_clock;

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      return line.substr(line.find(':') + 2);
    }
  }
  return "unknown";
}

// The flags that decide a GEMM's kernels.
std::string CpuFlags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::vector<std::string> kept;
    for (absl::string_view f : absl::StrSplit(line.substr(line.find(':') + 2), ' ')) {
      if (f == "avx" || f == "avx2" || f == "fma" || f == "f16c" ||
          absl::StartsWith(f, "avx512") || absl::StartsWith(f, "amx")) {
        kept.emplace_back(f);
      }
    }
    return absl::StrJoin(kept, " ");
  }
  return "";
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// OpenBLAS's idle threads spin for a while after a call before they sleep
// (and OpenMP's, BLIS's, briefly): a pause before each timed call keeps one
// candidate's spinning out of the next one's figure.
void Pause() { usleep(300 * 1000); }

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

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

void PrintResult(const std::string& kind, const std::string& name,
                 const std::string& detail, double seconds, int64_t batch,
                 int64_t entries, int dim, double error, int threads) {
  const double probes_per_s = batch / seconds;
  const double gflops = 2.0 * batch * entries * dim / seconds / 1e9;
  const bool wrong = error > 1e-4;
  std::printf("%-6s %-16s %-44s %10.0f probes/s %7.1f GFLOP/s  err %.1e%s\n",
              kind.c_str(), name.c_str(), detail.c_str(), probes_per_s, gflops,
              error, wrong ? "  WRONG" : "");
  std::printf(
      "RESULT kind=%s name=%s probes_per_s=%.1f gflops=%.2f error=%.2e "
      "ok=%d threads=%d entries=%lld dim=%d batch=%lld detail=\"%s\"\n",
      kind.c_str(), name.c_str(), probes_per_s, gflops, error, wrong ? 0 : 1,
      threads, static_cast<long long>(entries), dim,
      static_cast<long long>(batch), detail.c_str());
  std::fflush(stdout);
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

  std::mt19937_64 rng(2024);
  const std::vector<float> gallery = GaussianRowsFrom(entries, dim, rng, true);
  const std::vector<float> probes = GaussianRowsFrom(batch, dim, rng, true);
  std::vector<float> scores(static_cast<size_t>(batch * entries));

  std::set<std::string> wanted;
  for (absl::string_view c :
       absl::StrSplit(absl::GetFlag(FLAGS_candidates), ',', absl::SkipEmpty())) {
    wanted.emplace(c);
  }
  for (Candidate& c : LoadCandidates(wanted)) {
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

  if (absl::GetFlag(FLAGS_flat)) {
    // As the server runs it: scipy-openblas single-threaded under the
    // index's own workers (the fallback OpenBLAS keeps its threads).
    if (index::ServingBlas().info().library == "scipy-openblas") {
      index::ServingBlas().SetThreads(1);
    }
    index::SetCpuFlatThreads(threads);
    const int top_k = absl::GetFlag(FLAGS_top_k);
    std::vector<EntryId> ids(entries);
    std::iota(ids.begin(), ids.end(), 1);
    const std::vector<ProbeQuery> queries(batch, ProbeQuery{0.0f, top_k});
    auto time_index = [&](const std::string& name, index::Index& idx) {
      if (absl::Status s = idx.Add(ids, gallery); !s.ok()) {
        std::printf("skip   %-16s %s\n", name.c_str(), s.ToString().c_str());
        return;
      }
      auto first = idx.Search(probes, queries);  // warm
      double best = 1e30;
      for (int r = 0; r < reps; ++r) {
        Pause();
        const auto start = Clock::now();
        auto hits = idx.Search(probes, queries);
        best = std::min(best, Seconds(start));
        if (!hits.ok()) {
          std::printf("skip   %-16s %s\n", name.c_str(),
                      hits.status().ToString().c_str());
          return;
        }
      }
      // Check against the float64 oracle on the first probe's best hit.
      double error = 0;
      if (first.ok() && !(*first)[0].empty()) {
        const ScoredId top = (*first)[0][0];
        double dot = 0;
        for (int c = 0; c < dim; ++c) {
          dot += double{probes[c]} * double{gallery[(top.id - 1) * dim + c]};
        }
        error = std::abs(dot - top.score);
      }
      PrintResult("flat", name, idx.backend() + " top_k " + std::to_string(top_k),
                  best, batch, entries, dim, error, threads);
    };
    {
      index::CpuFlatIndex::Options options;
      options.tile_rows = absl::GetFlag(FLAGS_tile_rows);
      auto cpu = index::CpuFlatIndex::Create(dim, options);
      if (cpu.ok()) time_index("cpu-flat", **cpu);
      const int rounds = absl::GetFlag(FLAGS_paired);
      if (cpu.ok() && rounds > 0) {
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
          const double flat = Seconds(start);
          if (!hits.ok()) break;
          ratios.push_back(gemm / flat);  // flat probes/s over GEMM probes/s
          best_gemm = std::min(best_gemm, gemm);
          best_flat = std::min(best_flat, flat);
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
