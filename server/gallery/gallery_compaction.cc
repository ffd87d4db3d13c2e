// Compaction (snapshot + erasure of what it supersedes) and destruction.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/gallery/file_util.h"
#include "server/gallery/gallery_impl.h"
#include "server/gallery/layout.h"
#include "server/gallery/log.h"
#include "server/gallery/snapshot.h"

namespace candor::gallery {

absl::StatusOr<CompactResult> Gallery::Impl::Compact() {
  absl::MutexLock lock(&compaction_mu_);
  return CompactLocked();
}

absl::StatusOr<CompactResult> Gallery::Impl::CompactLocked() {
  CompactResult result;
  auto before = DirSizeBytes(dir_);
  if (!before.ok()) return before.status();
  result.bytes_before = *before;

  // The cut: under write_mu_ with every appended record applied, the live
  // state is exactly what segments before `seq` describe. Later writes go
  // to segment `seq`, which the snapshot does not cover.
  std::string snapshot;
  uint64_t seq;
  std::optional<absl::Time> first_removal_at;
  {
    absl::MutexLock lock(&write_mu_);
    if (auto s = WritableLocked(); !s.ok()) return s;
    WaitAppliedLocked();
    seq = next_segment_seq_++;
    auto next = WalWriter::Create(dir_, seq, dimension_);
    if (!next.ok()) return next.status();
    if (auto s = wal_->Rotate(std::move(*next)); !s.ok()) return s;
    {
      absl::ReaderMutexLock read(&mu_);
      snapshot = EncodeSnapshot(table_, request_ids_, version_, next_id_);
    }
    first_removal_at = first_removal_at_;
    result.erased_entries = removed_since_compaction_;
    first_removal_at_.reset();
    removed_since_compaction_ = 0;
  }

  absl::Status status =
      WriteFileAtomically(JoinPath(dir_, SnapshotFileName(seq)), snapshot);
  // Erase everything the new snapshot supersedes.
  if (status.ok()) {
    auto names = ListDir(dir_);
    status = names.status();
    for (size_t i = 0; status.ok() && i < names->size(); ++i) {
      const std::string& name = (*names)[i];
      auto snap = ParseSnapshotFileName(name);
      auto segment = ParseSegmentFileName(name);
      if ((snap && *snap < seq) || (segment && *segment < seq)) {
        status = EraseFile(JoinPath(dir_, name));
      }
    }
  }
  if (status.ok()) status = FsyncDir(dir_);
  if (!status.ok()) {
    // Removed vectors may still be on disk: keep the next attempt due.
    absl::MutexLock lock(&write_mu_);
    if (first_removal_at.has_value() &&
        (!first_removal_at_.has_value() ||
         *first_removal_at < *first_removal_at_)) {
      first_removal_at_ = first_removal_at;
    }
    removed_since_compaction_ += result.erased_entries;
    return status;
  }
  wal_->ForgetSealedBytes();
  auto after = DirSizeBytes(dir_);
  if (!after.ok()) return after.status();
  result.bytes_after = *after;
  return result;
}

absl::Status Gallery::Impl::MaybeCompact(absl::Time now) {
  absl::MutexLock lock(&compaction_mu_);
  bool due;
  {
    absl::MutexLock write(&write_mu_);
    if (destroyed_ || !wal_->health().ok()) return absl::OkStatus();
    due = (first_removal_at_.has_value() &&
           now - *first_removal_at_ >= options_.compaction_delay) ||
          wal_->total_bytes() > options_.max_wal_bytes;
  }
  if (!due) return absl::OkStatus();
  auto result = CompactLocked();
  return result.status();
}

absl::Status Gallery::Impl::DestroyFiles() {
  absl::MutexLock lock(&compaction_mu_);
  absl::MutexLock write(&write_mu_);
  if (destroyed_) return absl::OkStatus();
  WaitAppliedLocked();
  destroyed_ = true;
  return EraseDirectory(dir_);
}

}  // namespace candor::gallery
