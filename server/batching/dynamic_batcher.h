// Dynamic batching for searches: concurrent requests for the same gallery
// are coalesced into one index call (one sgemm instead of many thin ones),
// then each request gets its own probes' answers back. The gRPC service
// calls it through Submit and a completion callback, so no thread blocks
// while a request waits.
//
// Guarantees:
// - Submit returning OK means `done` runs exactly once; any other status
//   means the request was not taken and `done` is destroyed uncalled.
// - Only requests with the same key (the same object: see BatchKey) and
//   dimension share an index call.
// - A request whose deadline passes while queued is answered
//   DeadlineExceeded without being searched.
// - FIFO per gallery, round-robin across galleries, one batch per gallery
//   at a time (see RequestQueue): a search of another gallery waits for at
//   most the batches the busy galleries are running, not their backlog.
// - A request larger than max_batch_probes is searched alone, never split.
#ifndef CANDOR_SERVER_BATCHING_DYNAMIC_BATCHER_H_
#define CANDOR_SERVER_BATCHING_DYNAMIC_BATCHER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/batching/batcher_options.h"
#include "server/batching/clock.h"
#include "server/batching/request_queue.h"
#include "server/common/types.h"

namespace candor::batching {

class DynamicBatcher {
 public:
  // InvalidArgument for options out of range or a null search function.
  // observer and clock are not owned and must outlive the batcher; null
  // means no observer and real time.
  static absl::StatusOr<std::unique_ptr<DynamicBatcher>> Create(
      const BatcherOptions& options, SearchFn search,
      BatchObserver* observer = nullptr, Clock* clock = nullptr);

  // Calls Shutdown().
  ~DynamicBatcher();
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // probes: queries.size() rows of `dim` floats, L2-normalized, moved in.
  // deadline: absl::InfiniteFuture() for none. Errors (done not called):
  // InvalidArgument for an empty request or mismatched sizes,
  // DeadlineExceeded when the deadline has already passed,
  // ResourceExhausted when max_queue_requests are waiting, Unavailable
  // after Shutdown() has begun. With batching off, the search and `done`
  // run on the calling thread before Submit returns.
  absl::Status Submit(BatchKey key, std::vector<float> probes, int dim,
                      std::vector<ProbeQuery> queries, absl::Time deadline,
                      DoneFn done);

  // Stops accepting requests, searches those already queued (without
  // waiting out max_queue_delay_us; deadlines still apply), waits for every
  // callback and joins the workers. Idempotent; blocks concurrent callers
  // until done. Must not be called from a DoneFn.
  void Shutdown();

  BatcherStats Stats() const;
  const BatcherOptions& options() const { return options_; }

 private:
  DynamicBatcher(const BatcherOptions& options, SearchFn search,
                 BatchObserver* observer, Clock* clock);

  void WorkerLoop();
  // Blocks until a batch (or expired requests) can be taken; false when the
  // worker should exit.
  bool NextWork(RequestList* batch, RequestList* expired);
  void RunBatch(RequestList batch);
  void FailExpired(RequestList expired);
  void RunPassThrough(std::unique_ptr<PendingRequest> request);

  const BatcherOptions options_;
  const SearchFn search_;
  BatchObserver* const observer_;
  Clock* const clock_;

  mutable absl::Mutex mu_;
  absl::CondVar work_available_;
  RequestQueue queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Pass-through searches running on callers' threads.
  int pass_through_running_ ABSL_GUARDED_BY(mu_) = 0;
  BatcherStats counters_ ABSL_GUARDED_BY(mu_);

  // Serializes Shutdown() so that every caller returns after the join.
  absl::Mutex shutdown_mu_;
  std::vector<std::thread> workers_ ABSL_GUARDED_BY(shutdown_mu_);
};

}  // namespace candor::batching

#endif  // CANDOR_SERVER_BATCHING_DYNAMIC_BATCHER_H_
