// What a load run measured: every call's latency and status, summarized as
// throughput, latency percentiles and errors by status code.
#ifndef CANDOR_BENCH_LOAD_LATENCY_STATS_H_
#define CANDOR_BENCH_LOAD_LATENCY_STATS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace candor::load {

struct LatencySummary {
  int64_t ok = 0;
  // Failed calls by gRPC status code name ("UNAVAILABLE", ...).
  std::map<std::string, int64_t> errors;
  // Over successful calls; zero when there are none. Nearest-rank
  // percentiles of the recorded latencies, microseconds.
  double p50_us = 0, p95_us = 0, p99_us = 0, max_us = 0, mean_us = 0;
};

// The q-quantile (0 < q <= 1) by nearest rank: the smallest recorded value
// with at least q of the values at or below it. `sorted` ascending,
// non-empty.
double NearestRank(const std::vector<double>& sorted, double q);

// Thread-safe sink for completed calls, read by the progress line while a
// run is going and summarized at the end.
class LatencyRecorder {
 public:
  // code: a gRPC status code number (0 = OK).
  void Record(absl::Duration latency, int code);

  int64_t completed() const;
  int64_t failed() const;
  LatencySummary Summarize() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<double> ok_latency_us_ ABSL_GUARDED_BY(mu_);
  std::map<int, int64_t> errors_ ABSL_GUARDED_BY(mu_);
  int64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
};

// "OK", "DEADLINE_EXCEEDED", ... for a gRPC status code number.
std::string StatusCodeName(int code);

}  // namespace candor::load

#endif  // CANDOR_BENCH_LOAD_LATENCY_STATS_H_
