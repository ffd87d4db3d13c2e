// What candor-gemm-bench prints about the machine and each measurement,
// and how it times one: the lines people read and the "RESULT key=value"
// lines bench/cpu_limit.sh reads.
#ifndef CANDOR_BENCH_GEMM_BENCH_OUTPUT_H_
#define CANDOR_BENCH_GEMM_BENCH_OUTPUT_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace candor::bench {

using Clock = std::chrono::steady_clock;

// /proc/cpuinfo's model name, and the flags that decide a GEMM's kernels
// (avx*, fma, f16c, amx*).
std::string CpuModel();
std::string CpuFlags();
// The 1, 5 and 15 minute figures of /proc/loadavg.
std::string LoadAverage();
// The process's peak resident memory so far (getrusage), bytes.
double PeakRssBytes();

// OpenBLAS's idle threads spin for a while after a call before they sleep
// (and OpenMP's, BLIS's, briefly): a pause before each timed call keeps one
// candidate's spinning out of the next one's figure.
void Pause();
double Seconds(Clock::time_point start);

// One measurement of `batch` probes against `entries` rows of `dim`: a line
// for people and a RESULT line. It is WRONG (ok=0: its figures do not
// count) when `error` against float64 exceeds 1e-4, or when !answers_ok
// (answers that differ from those they must equal: cpu-bf16's from
// cpu-flat's).
void PrintResult(const std::string& kind, const std::string& name,
                 const std::string& detail, double seconds, int64_t batch,
                 int64_t entries, int dim, double error, int threads,
                 bool answers_ok = true);

}  // namespace candor::bench

#endif  // CANDOR_BENCH_GEMM_BENCH_OUTPUT_H_
