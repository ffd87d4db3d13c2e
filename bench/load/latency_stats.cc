#include "bench/load/latency_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/status/status.h"

namespace candor::load {

double NearestRank(const std::vector<double>& sorted, double q) {
  const double rank = std::ceil(q * static_cast<double>(sorted.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

void LatencyRecorder::Record(absl::Duration latency, int code) {
  absl::MutexLock lock(&mu_);
  if (code == 0) {
    ok_latency_us_.push_back(absl::ToDoubleMicroseconds(latency));
  } else {
    ++errors_[code];
    ++failed_;
  }
}

int64_t LatencyRecorder::completed() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(ok_latency_us_.size()) + failed_;
}

int64_t LatencyRecorder::failed() const {
  absl::MutexLock lock(&mu_);
  return failed_;
}

LatencySummary LatencyRecorder::Summarize() const {
  std::vector<double> sorted;
  LatencySummary summary;
  {
    absl::MutexLock lock(&mu_);
    sorted = ok_latency_us_;
    for (const auto& [code, count] : errors_) {
      summary.errors[StatusCodeName(code)] = count;
    }
  }
  summary.ok = static_cast<int64_t>(sorted.size());
  if (sorted.empty()) return summary;
  std::sort(sorted.begin(), sorted.end());
  summary.p50_us = NearestRank(sorted, 0.50);
  summary.p95_us = NearestRank(sorted, 0.95);
  summary.p99_us = NearestRank(sorted, 0.99);
  summary.max_us = sorted.back();
  summary.mean_us =
      std::accumulate(sorted.begin(), sorted.end(), 0.0) / sorted.size();
  return summary;
}

std::string StatusCodeName(int code) {
  // absl::StatusCode numbers are gRPC's.
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

}  // namespace candor::load
