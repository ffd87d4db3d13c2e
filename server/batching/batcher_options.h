// The dynamic batcher's configuration and the hooks it calls out through.
// Free of gRPC and Protobuf types: the API layer maps its messages onto
// these.
#ifndef CANDOR_SERVER_BATCHING_BATCHER_OPTIONS_H_
#define CANDOR_SERVER_BATCHING_BATCHER_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/batching/batch_key.h"
#include "server/common/types.h"

namespace candor::batching {

struct BatcherOptions {
  // false = pass-through: every request runs its own index call on the
  // thread that submits it, with no queue and no worker threads. Kept for
  // measuring what batching buys.
  bool enabled = true;
  // Probes per index call. A request larger than this is never split: it
  // runs alone, so that all its probes see one gallery version.
  int max_batch_probes = 1024;
  // How long the oldest queued request of a gallery may wait for company
  // before its batch runs although not full. 0 = never wait: a free worker
  // runs whatever has queued (the requests that arrived while the previous
  // call ran), which already coalesces under load.
  int64_t max_queue_delay_us = 0;
  // Requests waiting (not yet in an index call), over all galleries. Submit
  // returns ResourceExhausted when full rather than queueing unboundedly.
  int max_queue_requests = 4096;
  // Bytes of probe rows waiting, over all galleries: a request that would
  // pass it gets ResourceExhausted (a request larger than the whole bound
  // is admitted only into an empty queue, so that it can run at all).
  int64_t max_queued_bytes = int64_t{1} << 30;
  // Threads running index calls. A gallery runs one batch at a time (a
  // second worker would split its load into two half-size batches that
  // compete for the same cores: the index call, a BLAS sgemm on the CPU,
  // already uses them), so a second worker serves other galleries: a slow
  // gallery's batch then holds no other gallery's search. The server runs
  // two.
  int worker_threads = 1;
};

// One index call over a batch. key: the one all its requests were
// submitted with. probes: queries.size() rows of L2-normalized floats (host
// memory). Returns one candidate list per probe, each already cut to its
// query's threshold and top_k, and the version searched; the batcher stamps
// the timings. Called from worker threads (concurrently when
// worker_threads > 1) or, when batching is off, from the submitting
// threads: it must be thread-safe.
using SearchFn = std::function<absl::StatusOr<SearchOutcome>(
    const BatchKey& key, absl::Span<const float> probes,
    absl::Span<const ProbeQuery> queries)>;

// Called exactly once per accepted request, from a worker thread (or the
// submitting thread when batching is off), never under the batcher's lock,
// with this request's own probes' lists in the request's order. It must
// not call Shutdown() or destroy the batcher.
using DoneFn = absl::AnyInvocable<void(absl::StatusOr<SearchOutcome>)>;

// One index call, as the observer sees it.
struct BatchEvent {
  const BatchKey* key = nullptr;
  int requests = 0;
  int probes = 0;
  absl::Duration search_time;
  absl::StatusCode code = absl::StatusCode::kOk;
};

// Optional metrics hook (may be absent). Called on worker threads, outside
// the batcher's lock; must be thread-safe and quick.
class BatchObserver {
 public:
  virtual ~BatchObserver() = default;
  // After each index call.
  virtual void OnBatch(const BatchEvent& event) = 0;
  // A request dropped before its index call: queue full, deadline passed.
  virtual void OnDropped(const BatchKey& key, absl::StatusCode code) {}
};

// Counters since creation, and the queue as it is now.
struct BatcherStats {
  int64_t queued_requests = 0;
  int64_t queued_probes = 0;
  int64_t batches_run = 0;
  int64_t requests_searched = 0;
  int64_t probes_searched = 0;
  int64_t rejected_queue_full = 0;
  int64_t expired_deadline = 0;
};

}  // namespace candor::batching

#endif  // CANDOR_SERVER_BATCHING_BATCHER_OPTIONS_H_
