#include "bench/gemm/bench_output.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace candor::bench {

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

std::string CpuFlags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::vector<std::string> kept;
    for (absl::string_view f :
         absl::StrSplit(line.substr(line.find(':') + 2), ' ')) {
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

void Pause() { usleep(300 * 1000); }

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double PeakRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return 1024.0 * usage.ru_maxrss;  // Linux: KiB
}

void PrintResult(const std::string& kind, const std::string& name,
                 const std::string& detail, double seconds, int64_t batch,
                 int64_t entries, int dim, double error, int threads,
                 bool answers_ok) {
  const double probes_per_s = batch / seconds;
  const double gflops = 2.0 * batch * entries * dim / seconds / 1e9;
  const bool wrong = error > 1e-4 || !answers_ok;
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

}  // namespace candor::bench
