// Idempotency keys of applied Enroll requests, so that a retried request
// returns its original entry ids. Bounded: the kMaxRequestIds most recent
// keys are kept (oldest evicted first); a retry older than that is applied
// again. The kept keys are persisted in WAL records and snapshots.
#ifndef CANDOR_SERVER_GALLERY_REQUEST_IDS_H_
#define CANDOR_SERVER_GALLERY_REQUEST_IDS_H_

#include <cstdint>
#include <deque>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "server/common/types.h"

namespace candor::gallery {

// 100k keys of up to 128 bytes: at most ~20 MB per gallery, and far more
// than a client's retry window at any plausible enrollment rate.
inline constexpr size_t kMaxRequestIds = 100000;

class RequestIdCache {
 public:
  struct Applied {
    // The request enrolled first_id .. first_id + count - 1.
    EntryId first_id = 0;
    uint32_t count = 0;
    // WAL ticket of the request's record (0: recovered from disk).
    uint64_t ticket = 0;
  };

  explicit RequestIdCache(size_t capacity = kMaxRequestIds)
      : capacity_(capacity) {}

  // nullptr if unknown.
  const Applied* Find(const std::string& request_id) const;
  // Records a new key, evicting the oldest beyond capacity.
  void Insert(const std::string& request_id, const Applied& applied);
  // Forgets every key whose record has a ticket after `ticket`: records
  // that failed and were cut from the log (a retry must enroll again).
  void EraseAfterTicket(uint64_t ticket);
  size_t size() const { return order_.size(); }

  // Visits keys oldest first.
  template <typename F>
  void ForEach(F&& f) const {
    for (const std::string& key : order_) f(key, map_.at(key));
  }

 private:
  size_t capacity_;
  std::deque<std::string> order_;
  absl::flat_hash_map<std::string, Applied> map_;
};

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_REQUEST_IDS_H_
