// Drives Search calls at a server with gRPC's callback API, so that
// thousands of calls can be outstanding without a thread each.
//
// Closed loop: `concurrency` callers, each sending its next call when the
// previous one completes; latency is send to completion.
// Open loop: calls start on a fixed schedule (rate_rps) whatever the
// server's pace; latency is measured from the scheduled start, so a server
// that falls behind shows it in the tail instead of slowing the load
// (no coordinated omission).
#ifndef CANDOR_BENCH_LOAD_LOAD_DRIVER_H_
#define CANDOR_BENCH_LOAD_LOAD_DRIVER_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/load/latency_stats.h"
#include "candor/v1/candor.grpc.pb.h"
#include "candor/v1/candor.pb.h"

namespace candor::load {

enum class LoopMode { kClosed, kOpen };

struct LoadPlan {
  LoopMode mode = LoopMode::kClosed;
  // Closed loop: calls outstanding at all times.
  int concurrency = 64;
  // Open loop: calls started per second.
  double rate_rps = 100.0;
  // Open loop: a scheduled call is skipped (and counted) rather than sent
  // when this many are outstanding, bounding the client's memory.
  int max_in_flight = 10000;
  // The run stops sending at whichever comes first (0 requests = no count).
  absl::Duration duration = absl::Seconds(10);
  int64_t max_requests = 0;
  absl::Duration call_timeout = absl::Seconds(10);
};

struct Progress {
  absl::Duration elapsed;
  int64_t sent = 0;
  int64_t completed = 0;
  int64_t failed = 0;
  int64_t in_flight = 0;
};

// Inspects one successful answer: "" when it is right, else what is wrong.
using ResponseCheck = std::function<std::string(const v1::SearchRequest&,
                                                const v1::SearchResponse&)>;

struct RunTotals {
  int64_t sent = 0;
  int64_t skipped = 0;
  // OK answers the check (when given) found wrong, and the first problem.
  int64_t invalid = 0;
  std::string first_invalid;
  // From the first send to the last completion.
  absl::Duration elapsed;
};

class LoadDriver {
 public:
  // requests: sent round-robin; must outlive Run(). stub, recorder: not
  // owned.
  LoadDriver(v1::Candor::Stub* stub,
             const std::vector<v1::SearchRequest>* requests,
             const LoadPlan& plan, LatencyRecorder* recorder,
             ResponseCheck check = nullptr);

  // Sends until the plan says stop, then waits for every outstanding call.
  // `progress` is called from this thread about once a second.
  RunTotals Run(const std::function<void(const Progress&)>& progress);

 private:
  struct Call;

  // Reserves a send slot; false once the run stops sending.
  bool TryReserve(bool bounded) ABSL_LOCKS_EXCLUDED(mu_);
  bool ReserveLocked(bool bounded) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Send(absl::Time latency_from);
  void OnDone(Call* call, int code);
  void Pace();
  Progress Snapshot() const;

  v1::Candor::Stub* const stub_;
  const std::vector<v1::SearchRequest>* const requests_;
  const LoadPlan plan_;
  LatencyRecorder* const recorder_;
  const ResponseCheck check_;

  mutable absl::Mutex mu_;
  absl::Time start_ ABSL_GUARDED_BY(mu_);
  absl::Time last_done_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t skipped_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t invalid_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_invalid_ ABSL_GUARDED_BY(mu_);
};

}  // namespace candor::load

#endif  // CANDOR_BENCH_LOAD_LOAD_DRIVER_H_
