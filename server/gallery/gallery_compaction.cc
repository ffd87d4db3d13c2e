// Compaction (snapshot + erasure of what it supersedes) and destruction.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/gallery/gallery_impl.h"
#include "server/gallery/layout.h"
#include "server/gallery/log.h"
#include "server/gallery/snapshot.h"
#include "server/storage/files.h"

namespace candor::gallery {

absl::StatusOr<CompactResult> Gallery::Impl::Compact() {
  absl::MutexLock lock(&compaction_mu_);
  return CompactLocked();
}

absl::StatusOr<CompactResult> Gallery::Impl::CompactLocked() {
  CompactResult result;
  auto before = storage::DirSizeBytes(env_, dir_);
  if (!before.ok()) return before.status();
  result.bytes_before = *before;

  // The cut: under write_mu_ with every appended record applied, the live
  // state is exactly what segments before `seq` describe. Later writes go
  // to segment `seq`, which the snapshot does not cover.
  SnapshotSource snapshot;
  uint64_t seq;
  std::optional<absl::Time> first_removal_at;
  {
    absl::MutexLock lock(&write_mu_);
    if (auto s = WritableLocked(); !s.ok()) return s;
    WaitAppliedLocked();
    {
      // Interrupted atomic writes (a snapshot that failed, say) may hold
      // removed vectors. No atomic write runs now: manifests are written
      // under config_mu_, segments under write_mu_, snapshots here.
      absl::MutexLock config(&config_mu_);
      if (auto erased = storage::EraseTmpFiles(env_, dir_); !erased.ok()) {
        return erased.status();
      }
    }
    seq = next_segment_seq_;
    auto next = WalWriter::Create(env_, dir_, seq, dimension_);
    if (!next.ok()) {
      AbandonSegmentLocked(seq);
      return next.status();
    }
    ++next_segment_seq_;
    // Everything appended is durable (all applied), so this only switches.
    if (auto s = wal_->Rotate(std::move(*next)); !s.ok()) return s;
    {
      absl::ReaderMutexLock read(&mu_);
      snapshot = CaptureSnapshot(table_, request_ids_, version_, next_id_);
    }
    first_removal_at = first_removal_at_;
    result.erased_entries = removed_since_compaction_;
    first_removal_at_.reset();
    erasing_ = removed_since_compaction_;
    removed_since_compaction_ = 0;
  }

  const std::string path = storage::JoinPath(dir_, SnapshotFileName(seq));
  absl::Status status = WriteSnapshot(env_, path, snapshot);
  // The table's rows move onto the new snapshot, read back and verified,
  // before what it supersedes is erased: erasing writes zeros through
  // every mapping of the old snapshot.
  if (status.ok()) {
    status = AdoptSnapshotRows(path);
    if (!status.ok() && env_->EraseFile(path).ok()) {
      // A restart must not read a snapshot that does not read back: the
      // older one and its segments still describe the gallery.
      env_->SyncDir(dir_).IgnoreError();
    }
  }
  snapshot = SnapshotSource();
  // Erase everything the new snapshot supersedes.
  if (status.ok()) {
    auto names = env_->ListDir(dir_);
    status = names.status();
    for (size_t i = 0; status.ok() && i < names->size(); ++i) {
      const std::string& name = (*names)[i];
      auto snap = ParseSnapshotFileName(name);
      auto segment = ParseSegmentFileName(name);
      if ((snap && *snap < seq) || (segment && *segment < seq)) {
        status = env_->EraseFile(storage::JoinPath(dir_, name));
      }
    }
  }
  if (status.ok()) status = env_->SyncDir(dir_);
  absl::MutexLock lock(&write_mu_);
  erasing_ = 0;
  if (!status.ok()) {
    // Removed vectors may still be on disk: keep the next attempt due.
    if (first_removal_at.has_value() &&
        (!first_removal_at_.has_value() ||
         *first_removal_at < *first_removal_at_)) {
      first_removal_at_ = first_removal_at;
    }
    removed_since_compaction_ += result.erased_entries;
    PublishBacklogLocked();
    return status;
  }
  PublishBacklogLocked();
  wal_->ForgetSealedBytes();
  auto after = storage::DirSizeBytes(env_, dir_);
  if (!after.ok()) return after.status();
  result.bytes_after = *after;
  return result;
}

absl::Status Gallery::Impl::AdoptSnapshotRows(const std::string& path) {
  auto written = ReadSnapshot(env_, path, dimension_);
  if (!written.ok()) return written.status();
  absl::MutexLock lock(&mu_);
  table_.AdoptRows(written->table);
  return absl::OkStatus();
}

void Gallery::Impl::AbandonSegmentLocked(uint64_t seq) {
  // The failed create may have left the segment (only its directory entry
  // not durable): nothing may be appended to the active segment while a
  // later one exists, or recovery would find the active one sealed with an
  // unsynced tail. Remove it now, or have the next write do so.
  const std::string path = storage::JoinPath(dir_, SegmentFileName(seq));
  if (!env_->FileExists(path)) return;
  absl::Status s = env_->RemoveFile(path);
  if (s.ok()) s = env_->SyncDir(dir_);
  if (!s.ok()) wal_->Fail(s);
}

absl::Status Gallery::Impl::MaybeCompact(absl::Time now) {
  absl::MutexLock lock(&compaction_mu_);
  bool due;
  {
    absl::MutexLock write(&write_mu_);
    if (destroyed_) return absl::OkStatus();
    // A log stopped by a write error is retried here too, so erasure
    // resumes once the disk does even when nothing is written.
    if (absl::Status s = RepairLocked(); !s.ok()) {
      compaction_failures_.fetch_add(1, std::memory_order_relaxed);
      return s;
    }
    due = (first_removal_at_.has_value() &&
           now - *first_removal_at_ >= options_.compaction_delay) ||
          wal_->total_bytes() > options_.max_wal_bytes;
  }
  if (!due) return absl::OkStatus();
  auto result = CompactLocked();
  if (!result.ok()) {
    compaction_failures_.fetch_add(1, std::memory_order_relaxed);
  }
  return result.status();
}

absl::Status Gallery::Impl::DestroyFiles() {
  absl::MutexLock lock(&compaction_mu_);
  absl::MutexLock write(&write_mu_);
  if (destroyed_) return absl::OkStatus();
  WaitAppliedLocked();
  destroyed_ = true;
  {
    // Erasing writes zeros through the snapshot's mapping: from here on,
    // searches still holding the gallery find it empty.
    absl::MutexLock lock(&mu_);
    table_.Clear();
  }
  return storage::EraseDirectory(env_, dir_);
}

}  // namespace candor::gallery
