#include "server/gallery/request_ids.h"

#include <utility>

namespace candor::gallery {

const RequestIdCache::Applied* RequestIdCache::Find(
    const std::string& request_id) const {
  auto it = map_.find(request_id);
  return it == map_.end() ? nullptr : &it->second;
}

void RequestIdCache::Insert(const std::string& request_id,
                            const Applied& applied) {
  auto [it, inserted] = map_.insert_or_assign(request_id, applied);
  if (!inserted) return;
  order_.push_back(request_id);
  while (order_.size() > capacity_) {
    map_.erase(order_.front());
    order_.pop_front();
  }
}

void RequestIdCache::EraseAfterTicket(uint64_t ticket) {
  std::deque<std::string> kept;
  for (std::string& key : order_) {
    auto it = map_.find(key);
    if (it->second.ticket > ticket) {
      map_.erase(it);
    } else {
      kept.push_back(std::move(key));
    }
  }
  order_ = std::move(kept);
}

}  // namespace candor::gallery
