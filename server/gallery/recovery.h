// Opening a gallery directory: the manifest, the newest snapshot, and a
// replay of the log segments after it (layout.h). Finishes an interrupted
// compaction by erasing superseded snapshots and segments, erases leftover
// *.tmp files, and truncates a torn final record (wal_format.h).
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

struct RecoveredGallery {
  Manifest manifest;
  SnapshotState state{1};
  // Entries removed by replayed log records: their vectors are still in
  // the log until the next compaction.
  uint64_t removed_entries = 0;
  // The newest segment, open for appending.
  std::unique_ptr<WalWriter> segment;
  // Bytes of the live segments before it.
  uint64_t older_segments_bytes = 0;
};

absl::StatusOr<RecoveredGallery> RecoverGallery(storage::Env* env,
                                                const std::string& dir);

// Applies one log record to `state` (also used by tests as the replay
// oracle). DataLoss naming `where` if the record contradicts the state.
absl::Status ApplyWalRecord(const WalRecord& record, const std::string& where,
                            SnapshotState* state, uint64_t* removed_entries);

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_RECOVERY_H_
