// The batcher's waiting requests: one FIFO lane per (key, dimension),
// served round-robin across lanes. Not thread-safe; the batcher guards it.
//
// Fairness: within a lane, requests leave in arrival order and a batch stops
// at the first request that does not fit, so a large request is never passed
// by later small ones. Across lanes, a lane runs one batch at a time: from
// PopBatch until Release it is out of the line, and it goes back to the end
// of the line only when that batch is done, behind every lane that queued
// meanwhile. So a search of another gallery waits for at most the one batch
// each busy gallery is running (with several workers, for none), never for
// a slow gallery's whole backlog.
#ifndef CANDOR_SERVER_BATCHING_REQUEST_QUEUE_H_
#define CANDOR_SERVER_BATCHING_REQUEST_QUEUE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "server/batching/pending_request.h"

namespace candor::batching {

using RequestList = std::vector<std::unique_ptr<PendingRequest>>;

// When a lane may run: once its oldest request has waited `max_delay`, once
// it holds `max_batch_probes` probes, or at once when `flush` (shutdown).
struct ReadyRule {
  absl::Duration max_delay = absl::ZeroDuration();
  int max_batch_probes = 1024;
  bool flush = false;
};

class RequestQueue {
 public:
  void Push(std::unique_ptr<PendingRequest> request);

  bool empty() const { return requests_ == 0; }
  int64_t requests() const { return requests_; }
  int64_t probes() const { return probes_; }
  // Bytes of probe rows waiting (what a queue bound in bytes counts).
  int64_t bytes() const { return bytes_; }

  // Takes the next batch from the first ready lane in round-robin order:
  // its oldest requests, in order, while their probes fit in
  // rule.max_batch_probes (the first is always taken, however large).
  // Requests met on the way whose deadline is <= now go to *expired instead.
  // Returns an empty list when no lane is ready (or only expired requests
  // were found). A lane that gave a non-empty batch is busy until
  // Release(batch's key, dim): it gives no other batch meanwhile.
  RequestList PopBatch(absl::Time now, const ReadyRule& rule,
                       RequestList* expired);

  // The batch PopBatch took from lane (key, dim) is done: the lane takes
  // its turn again, at the end of the line. Returns whether it has requests
  // waiting (a worker may take them).
  bool Release(const BatchKey& key, int dim);

  // The earliest time a lane that is not busy becomes ready without new
  // arrivals (its oldest request's delay runs out or its deadline passes);
  // InfiniteFuture when there is none. A busy lane's waiting requests, even
  // expired ones, wait for its Release.
  absl::Time NextDue(const ReadyRule& rule) const;

 private:
  using LaneKey = std::pair<BatchKey, int>;
  struct Lane {
    std::deque<std::unique_ptr<PendingRequest>> requests;
    int64_t probes = 0;
    // A batch of this lane is running (between PopBatch and Release).
    bool busy = false;
  };

  bool Ready(const Lane& lane, absl::Time now, const ReadyRule& rule) const;

  std::map<LaneKey, Lane> lanes_;
  // Lanes with requests that are not busy, next to serve first. A lane is
  // kept in lanes_ while it has requests or is busy.
  std::deque<LaneKey> order_;
  int64_t requests_ = 0;
  int64_t probes_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace candor::batching

#endif  // CANDOR_SERVER_BATCHING_REQUEST_QUEUE_H_
