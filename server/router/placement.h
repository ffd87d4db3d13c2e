// Where an entry lives in a sharded gallery: the shard a subject hashes to,
// and entry ids that are unique across shards.
#ifndef CANDOR_SERVER_ROUTER_PLACEMENT_H_
#define CANDOR_SERVER_ROUTER_PLACEMENT_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace candor::router {

// A global entry id is (shard << kLocalIdBits) | local id: 16 bits name one
// of up to 65536 shards, 48 bits the shard's own id (2.8e14 entries).
inline constexpr int kLocalIdBits = 48;
inline constexpr uint64_t kLocalIdMask = (uint64_t{1} << kLocalIdBits) - 1;
inline constexpr int kMaxShards = 1 << (64 - kLocalIdBits);

// The shard holding every entry of `subject_id`: zlib's CRC-32 of its bytes
// mod shard_count. CRC-32 is fixed by its polynomial, so the placement is
// the same in every process, build and version (absl::Hash is not: it is
// seeded per process). All of a subject's entries land on one shard, which
// keeps Remove by subject on one shard and self-audits per subject exact.
int ShardOfSubject(std::string_view subject_id, int shard_count);

// Internal when a shard's `local` id does not fit in 48 bits (its shard
// could not be told apart in the global id).
absl::StatusOr<uint64_t> GlobalEntryId(int shard, uint64_t local);

struct LocalEntryId {
  int shard = 0;
  uint64_t local = 0;
};
// NotFound when the id names a shard beyond shard_count (no such entry).
absl::StatusOr<LocalEntryId> SplitEntryId(uint64_t global, int shard_count);

}  // namespace candor::router

#endif  // CANDOR_SERVER_ROUTER_PLACEMENT_H_
