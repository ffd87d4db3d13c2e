// Snapshot file format (all integers little-endian):
//
//   magic "CNDRSNP1", u32 format version (2), u32 dimension,
//   u64 gallery version, u64 next entry id,
//   u64 request id count, u64 entry count,
//   request ids, oldest first: str key, u64 first_id, u32 count
//   entries: u64 id, str subject, str group
//   zero bytes up to the next multiple of 64 from the file's start
//   vectors: entry count x dimension f32, rows in entry order
//   u32 crc32 (zlib) of every byte before it
//
// (str: u32 byte length, bytes.) A snapshot holds live entries only, so
// writing one and deleting what it supersedes erases removed vectors.
// The padding aligns the vectors so the gallery reads its rows straight
// from the mapped file (format 1, without it, is still read: its rows are
// copied into memory).
#ifndef CANDOR_SERVER_GALLERY_SNAPSHOT_H_
#define CANDOR_SERVER_GALLERY_SNAPSHOT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/gallery/entry_table.h"
#include "server/gallery/request_ids.h"
#include "server/storage/env.h"

namespace candor::gallery {

inline constexpr char kSnapshotMagic[] = "CNDRSNP1";
inline constexpr uint32_t kSnapshotFormatVersion = 2;
// Where the vectors start: a multiple of this from the file's start.
inline constexpr size_t kSnapshotVectorAlignment = 64;

struct SnapshotState {
  explicit SnapshotState(int dimension) : table(dimension) {}
  EntryTable table;
  RequestIdCache request_ids;
  uint64_t version = 0;
  EntryId next_id = 1;
};

// A snapshot's contents taken under the gallery's lock, to be written
// without it: the bytes before the vectors, and the rows (each valid while
// held).
struct SnapshotSource {
  std::string head;
  std::vector<std::shared_ptr<const float>> rows;
  size_t dimension = 0;
};
SnapshotSource CaptureSnapshot(const EntryTable& table,
                               const RequestIdCache& request_ids,
                               uint64_t version, EntryId next_id);

// Writes the snapshot to `path` atomically (storage::WriteFileAtomically),
// a bounded chunk of rows at a time.
absl::Status WriteSnapshot(storage::Env* env, const std::string& path,
                           const SnapshotSource& source);

// The bytes of a snapshot file for this state, in memory (tests and small
// tools; the gallery writes with WriteSnapshot).
std::string EncodeSnapshot(const EntryTable& table,
                           const RequestIdCache& request_ids, uint64_t version,
                           EntryId next_id);

// Maps and verifies a snapshot (its checksum reads every page once; the
// pages are then released to the kernel). The table's rows point into the
// mapping, which they keep alive. DataLoss naming the file when it is
// damaged or its dimension is not `dimension`.
absl::StatusOr<SnapshotState> ReadSnapshot(storage::Env* env,
                                           const std::string& path,
                                           int dimension);

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_SNAPSHOT_H_
