// Opening a gallery directory: the manifest, the newest snapshot, and a
// replay of the log segments after it (layout.h). Everything is read and
// checked before anything is changed: a gallery found damaged is left
// exactly as it was (the store quarantines it). Only then does recovery
// finish an interrupted compaction by erasing superseded snapshots and
// segments, erase leftover *.tmp files, and cut a torn final record
// (wal_format.h), which it reports in RecoveredGallery::dropped.
#ifndef CANDOR_SERVER_GALLERY_RECOVERY_H_
#define CANDOR_SERVER_GALLERY_RECOVERY_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/gallery/manifest.h"
#include "server/gallery/snapshot.h"
#include "server/gallery/wal_format.h"
#include "server/gallery/wal_writer.h"
#include "server/storage/env.h"

namespace candor::gallery {

// What recovery dropped: the torn final record of the newest log segment
// (a write cut short; it may have been acknowledged if the file was
// damaged afterwards, hence reported, never silent).
struct RecoveryDropped {
  uint64_t records = 0;
  uint64_t bytes = 0;
  // The segment and the offset the dropped bytes began at.
  std::string file;
  uint64_t offset = 0;
};

struct RecoveredGallery {
  Manifest manifest;
  RecoveryDropped dropped;
  SnapshotState state{1};
  // Entries removed by replayed log records: their vectors are still in
  // the log until the next compaction.
  uint64_t removed_entries = 0;
  // The newest segment, open for appending.
  std::unique_ptr<WalWriter> segment;
  // Bytes of the live segments before it.
  uint64_t older_segments_bytes = 0;
};

// DataLoss naming the file and offset when anything but a torn final
// record is damaged (a record whose checksum fails, a missing segment, a
// bad snapshot or manifest): nothing in `dir` is changed then.
absl::StatusOr<RecoveredGallery> RecoverGallery(storage::Env* env,
                                                const std::string& dir);

// Applies one log record to `state` (also used by tests as the replay
// oracle). DataLoss naming `where` if the record contradicts the state.
absl::Status ApplyWalRecord(const WalRecord& record, const std::string& where,
                            SnapshotState* state, uint64_t* removed_entries);

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_RECOVERY_H_
