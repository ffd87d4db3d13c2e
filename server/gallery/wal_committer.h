// Group commit over the active write-ahead log segment. Writers append a
// record (getting a ticket) and then wait for it to be durable; the first
// waiter to find no sync running becomes the leader and issues one fdatasync
// covering every record appended so far, so concurrent writers share one
// sync. A failed write or sync stops the log: every later append fails
// with that error until Repair() cuts the segment back to its last durable
// record (what the failed records left after it is gone) and the log takes
// appends again. An apply error (Poison) is never repaired: the gallery
// must be reopened, which replays what is on disk.
#ifndef CANDOR_SERVER_GALLERY_WAL_COMMITTER_H_
#define CANDOR_SERVER_GALLERY_WAL_COMMITTER_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/gallery/wal_writer.h"

namespace candor::gallery {

class WalCommitter {
 public:
  // `sync` false skips fdatasync (tests that measure something else).
  // `older_segments_bytes`: bytes of live segments before `segment`.
  // `on_sync` (may be empty) gets each fdatasync's duration.
  WalCommitter(std::unique_ptr<WalWriter> segment, bool sync,
               uint64_t older_segments_bytes,
               std::function<void(absl::Duration)> on_sync = nullptr);

  // Appends one framed record and returns its ticket (1, 2, 3, ... in
  // append order, across segments).
  absl::StatusOr<uint64_t> Append(absl::string_view framed_record);
  // Returns once record `ticket` is durable, or the error that prevented it.
  absl::Status WaitDurable(uint64_t ticket);
  // Makes every appended record durable, then appends to `next` from now
  // on (the old segment is sealed and closed).
  absl::Status Rotate(std::unique_ptr<WalWriter> next);
  // Forgets the bytes of sealed segments (after compaction erased them).
  void ForgetSealedBytes();
  // Marks the log unusable (e.g. memory and log disagree after a failed
  // apply); Repair() then fails.
  void Poison(const absl::Status& error);
  // Stops appends after a failed write outside the log proper (a segment
  // that could not be switched to), as a failed append does: Repair()
  // resumes them.
  void Fail(const absl::Status& error);
  // After a failed write or sync, with every appended record's waiter
  // answered (the caller ensures none is still to call WaitDurable): cuts
  // the segment back to its last durable record and takes appends again.
  // OK when healthy; the error when the disk still fails (try again later)
  // or the log was poisoned.
  absl::Status Repair();

  absl::Status health() const;
  uint64_t segment_seq() const;
  // The last ticket known durable.
  uint64_t durable_ticket() const;
  // Bytes of every live segment, the active one included.
  uint64_t total_bytes() const;
  // fdatasync calls issued so far (group commit makes it < appends).
  uint64_t syncs() const;

 private:
  absl::Status SyncUpTo(uint64_t ticket) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const bool sync_;
  const std::function<void(absl::Duration)> on_sync_;
  mutable absl::Mutex mu_;
  std::unique_ptr<WalWriter> segment_ ABSL_GUARDED_BY(mu_);
  uint64_t sealed_bytes_ ABSL_GUARDED_BY(mu_);
  uint64_t appended_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t synced_ ABSL_GUARDED_BY(mu_) = 0;
  // A leader is inside fdatasync (with mu_ released).
  bool syncing_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
  // Bytes of the active segment up to the end of its last durable record.
  uint64_t durable_bytes_ ABSL_GUARDED_BY(mu_);
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  // failed_ came from Poison: Repair cannot help.
  bool poisoned_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_WAL_COMMITTER_H_
