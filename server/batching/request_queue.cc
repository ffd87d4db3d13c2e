#include "server/batching/request_queue.h"

#include <algorithm>
#include <utility>

namespace candor::batching {

void RequestQueue::Push(std::unique_ptr<PendingRequest> request) {
  LaneKey lane_key(request->key, request->dim);
  Lane& lane = lanes_[lane_key];
  if (lane.requests.empty() && !lane.busy) order_.push_back(lane_key);
  ++requests_;
  probes_ += request->num_probes();
  bytes_ += request->probe_bytes();
  lane.probes += request->num_probes();
  lane.requests.push_back(std::move(request));
}

bool RequestQueue::Ready(const Lane& lane, absl::Time now,
                         const ReadyRule& rule) const {
  if (rule.flush || lane.probes >= rule.max_batch_probes) return true;
  const PendingRequest& oldest = *lane.requests.front();
  return oldest.enqueued + rule.max_delay <= now || oldest.deadline <= now;
}

RequestList RequestQueue::PopBatch(absl::Time now, const ReadyRule& rule,
                                   RequestList* expired) {
  RequestList batch;
  auto it = std::find_if(order_.begin(), order_.end(), [&](const LaneKey& k) {
    return Ready(lanes_.at(k), now, rule);
  });
  if (it == order_.end()) return batch;
  LaneKey lane_key = *it;
  order_.erase(it);
  Lane& lane = lanes_.at(lane_key);

  int64_t batch_probes = 0;
  while (!lane.requests.empty()) {
    PendingRequest& next = *lane.requests.front();
    const bool is_expired = next.deadline <= now;
    if (!is_expired && !batch.empty() &&
        batch_probes + next.num_probes() > rule.max_batch_probes) {
      break;
    }
    std::unique_ptr<PendingRequest> taken = std::move(lane.requests.front());
    lane.requests.pop_front();
    --requests_;
    probes_ -= taken->num_probes();
    bytes_ -= taken->probe_bytes();
    lane.probes -= taken->num_probes();
    if (is_expired) {
      expired->push_back(std::move(taken));
    } else {
      batch_probes += taken->num_probes();
      batch.push_back(std::move(taken));
    }
  }

  if (!batch.empty()) {
    lane.busy = true;  // back in line at Release
  } else if (lane.requests.empty()) {
    lanes_.erase(lane_key);
  } else {
    order_.push_back(lane_key);
  }
  return batch;
}

bool RequestQueue::Release(const BatchKey& key, int dim) {
  LaneKey lane_key(key, dim);
  auto it = lanes_.find(lane_key);
  if (it == lanes_.end() || !it->second.busy) return false;
  it->second.busy = false;
  if (it->second.requests.empty()) {
    lanes_.erase(it);
    return false;
  }
  order_.push_back(std::move(lane_key));
  return true;
}

absl::Time RequestQueue::NextDue(const ReadyRule& rule) const {
  absl::Time due = absl::InfiniteFuture();
  for (const auto& [key, lane] : lanes_) {
    if (lane.busy || lane.requests.empty()) continue;
    const PendingRequest& oldest = *lane.requests.front();
    due = std::min({due, oldest.enqueued + rule.max_delay, oldest.deadline});
  }
  return due;
}

}  // namespace candor::batching
