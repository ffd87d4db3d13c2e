// Gallery's private state and the locking that orders it. Internal to the
// gallery library.
//
// Locks, in acquisition order:
//   compaction_mu_  one compaction, index training or destruction at a time.
//   write_mu_       orders mutations: validation, id assignment and the log
//                   append happen under it, so log order is id order.
//   mu_             reader/writer lock on the live state (table, index,
//                   version). Searches hold it shared; a mutation takes it
//                   exclusively only after its record is durable, and
//                   applies records in log (ticket) order.
//   config_mu_      the manifest.
// Enrolls only append under write_mu_, so concurrent enrolls share one
// fsync (group commit, WalCommitter). Removals first wait for earlier
// records to be applied, so they validate ids against the state the log
// describes.
#ifndef CANDOR_SERVER_GALLERY_GALLERY_IMPL_H_
#define CANDOR_SERVER_GALLERY_GALLERY_IMPL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/gallery/entry_table.h"
#include "server/gallery/gallery.h"
#include "server/gallery/manifest.h"
#include "server/gallery/recovery.h"
#include "server/gallery/request_ids.h"
#include "server/gallery/wal_committer.h"
#include "server/index/index.h"

namespace candor::gallery {

class Gallery::Impl {
 public:
  // Builds the in-memory gallery (and its index) from recovered state.
  static absl::StatusOr<std::unique_ptr<Impl>> FromRecovered(
      std::string dir, GalleryOptions options, RecoveredGallery recovered);

  const std::string& name() const { return name_; }
  int dimension() const { return dimension_; }
  int64_t created_at_us() const { return created_at_us_; }

  absl::StatusOr<EnrollResult> Enroll(absl::Span<const float> vectors,
                                      const std::vector<std::string>& subjects,
                                      const std::vector<std::string>& groups,
                                      const std::string& request_id);
  absl::StatusOr<RemoveResult> RemoveEntries(absl::Span<const EntryId> ids);
  absl::StatusOr<RemoveResult> RemoveSubject(const std::string& subject_id);

  absl::StatusOr<SearchOutcome> Search(
      absl::Span<const float> probes,
      absl::Span<const ProbeQuery> queries) const;
  GalleryInfo Info() const;
  uint64_t size() const;
  std::string backend() const;
  bool normalizes_probes() const;
  std::string policy_blob() const;
  std::vector<EntryMeta> Entries() const;
  absl::Status GetVector(EntryId id, float* out) const;

  absl::StatusOr<CompactResult> Compact();
  absl::Status MaybeCompact(absl::Time now);
  absl::Status TrainIndex(int nlist);
  absl::Status SetPolicyBlob(const std::string& blob);
  absl::Status DestroyFiles();

 private:
  Impl(std::string dir, GalleryOptions options, RecoveredGallery recovered,
       std::unique_ptr<index::Index> index);

  // Appends `record` under write_mu_ (held by the caller) and returns its
  // ticket; the caller then calls Commit with it, always.
  absl::StatusOr<uint64_t> AppendLocked(const std::string& record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Enroll's steps: its arguments checked (InvalidArgument, nothing
  // written); the answer to a request id already applied, once the
  // original is; the rows of a durable record added to the table and the
  // index (none of them when the index refuses).
  absl::Status ValidateEnroll(absl::Span<const float> vectors,
                              const std::vector<std::string>& subjects,
                              const std::vector<std::string>& groups) const;
  absl::StatusOr<EnrollResult> AnswerReplay(
      const RequestIdCache::Applied& applied);
  absl::Status ApplyEnrollLocked(EntryId first_id,
                                 absl::Span<const float> vectors,
                                 const std::vector<std::string>& subjects,
                                 const std::vector<std::string>& groups)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits for `ticket` to be durable, then runs `apply` under the exclusive
  // lock once every earlier ticket is applied. Returns the version after it.
  absl::StatusOr<uint64_t> Commit(uint64_t ticket,
                                  const std::function<absl::Status()>& apply);
  // Blocks until every appended record is applied.
  void WaitAppliedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Checks the gallery still takes writes; after a write error, first
  // repairs the log (RepairLocked), so writes resume once the disk does.
  absl::Status WritableLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // After a failed log write or sync: waits for every appended record to
  // be resolved, erases segments a failed compaction left after the active
  // one, and cuts the active segment back to its last durable record
  // (WalCommitter::Repair). Fails, changing nothing in memory, while the
  // disk still fails; an apply error (memory and log disagree) is never
  // repaired.
  absl::Status RepairLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Tracks removed_since_compaction_ for readers that take no lock.
  void PublishBacklogLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    erasure_backlog_.store(removed_since_compaction_ + erasing_,
                           std::memory_order_relaxed);
  }
  // Appends a removal of live `ids` and notes that removed vectors now
  // wait for compaction.
  absl::StatusOr<uint64_t> AppendRemoveLocked(const std::vector<EntryId>& ids)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::StatusOr<RemoveResult> CommitRemove(uint64_t ticket,
                                            std::vector<EntryId> ids);
  absl::StatusOr<CompactResult> CompactLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(compaction_mu_);
  // Moves the table's rows onto the snapshot just written at `path`
  // (mapped and verified); DataLoss when it does not read back.
  absl::Status AdoptSnapshotRows(const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(compaction_mu_);
  // After segment `seq` could not be created: removes what the attempt
  // left, or stops writes until RepairLocked can.
  void AbandonSegmentLocked(uint64_t seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  const std::string dir_;
  const GalleryOptions options_;
  storage::Env* const env_;
  const std::string name_;
  const int dimension_;
  const int64_t created_at_us_;
  std::unique_ptr<WalCommitter> wal_;

  absl::Mutex compaction_mu_ ABSL_ACQUIRED_BEFORE(write_mu_);

  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  EntryId next_id_ ABSL_GUARDED_BY(write_mu_);
  // Includes requests whose records are appended but not yet applied.
  RequestIdCache request_ids_ ABSL_GUARDED_BY(write_mu_);
  uint64_t last_ticket_ ABSL_GUARDED_BY(write_mu_) = 0;
  uint64_t next_segment_seq_ ABSL_GUARDED_BY(write_mu_);
  // First removal since the last compaction (its vectors are on disk).
  std::optional<absl::Time> first_removal_at_ ABSL_GUARDED_BY(write_mu_);
  uint64_t removed_since_compaction_ ABSL_GUARDED_BY(write_mu_) = 0;
  // Removed entries a running compaction is erasing (still on disk).
  uint64_t erasing_ ABSL_GUARDED_BY(write_mu_) = 0;
  bool destroyed_ ABSL_GUARDED_BY(write_mu_) = false;
  // removed_since_compaction_, and automatic compactions that failed:
  // read by Info() without write_mu_ (which a stalled disk can hold).
  std::atomic<uint64_t> erasure_backlog_{0};
  std::atomic<uint64_t> compaction_failures_{0};

  mutable absl::Mutex mu_ ABSL_ACQUIRED_BEFORE(config_mu_);
  EntryTable table_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<index::Index> index_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_);
  uint64_t applied_ticket_ ABSL_GUARDED_BY(mu_) = 0;

  mutable absl::Mutex config_mu_;
  Manifest manifest_ ABSL_GUARDED_BY(config_mu_);
};

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_GALLERY_IMPL_H_
