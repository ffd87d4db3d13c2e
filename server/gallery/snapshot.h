// Snapshot file format (all integers little-endian):
//
//   magic "CNDRSNP1", u32 format version (1), u32 dimension,
//   u64 gallery version, u64 next entry id,
//   u64 request id count, u64 entry count,
//   request ids, oldest first: str key, u64 first_id, u32 count
//   entries: u64 id, str subject, str group
//   vectors: entry count x dimension f32, rows in entry order
//   u32 crc32 (zlib) of every byte before it
//
// (str: u32 byte length, bytes.) A snapshot holds live entries only, so
// writing one and deleting what it supersedes erases removed vectors.
#ifndef CANDOR_SERVER_GALLERY_SNAPSHOT_H_
#define CANDOR_SERVER_GALLERY_SNAPSHOT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "server/gallery/entry_table.h"
#include "server/gallery/request_ids.h"
#include "server/storage/env.h"

namespace candor::gallery {

inline constexpr char kSnapshotMagic[] = "CNDRSNP1";
inline constexpr uint32_t kSnapshotFormatVersion = 1;

struct SnapshotState {
  explicit SnapshotState(int dimension) : table(dimension) {}
  EntryTable table;
  RequestIdCache request_ids;
  uint64_t version = 0;
  EntryId next_id = 1;
};

// The bytes of a snapshot file for this state (host memory: about the size
// of the vectors).
std::string EncodeSnapshot(const EntryTable& table,
                           const RequestIdCache& request_ids, uint64_t version,
                           EntryId next_id);

// Reads and verifies a snapshot; DataLoss naming the file when it is
// damaged or its dimension is not `dimension`.
absl::StatusOr<SnapshotState> ReadSnapshot(storage::Env* env,
                                           const std::string& path,
                                           int dimension);

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_SNAPSHOT_H_
