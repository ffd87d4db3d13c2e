#include "server/router/placement.h"

#include <zlib.h>

#include "absl/strings/str_cat.h"

namespace candor::router {

int ShardOfSubject(std::string_view subject_id, int shard_count) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(subject_id.data()),
              static_cast<uInt>(subject_id.size()));
  return static_cast<int>(crc % static_cast<uLong>(shard_count));
}

absl::StatusOr<uint64_t> GlobalEntryId(int shard, uint64_t local) {
  if (local > kLocalIdMask) {
    return absl::InternalError(
        absl::StrCat("shard ", shard, " returned entry id ", local,
                     ", which does not fit the router's 48-bit local id"));
  }
  return (static_cast<uint64_t>(shard) << kLocalIdBits) | local;
}

absl::StatusOr<LocalEntryId> SplitEntryId(uint64_t global, int shard_count) {
  const int shard = static_cast<int>(global >> kLocalIdBits);
  if (shard >= shard_count) {
    return absl::NotFoundError(absl::StrCat("entry id ", global,
                                            " names shard ", shard, " of ",
                                            shard_count, ": no such entry"));
  }
  return LocalEntryId{shard, global & kLocalIdMask};
}

}  // namespace candor::router
