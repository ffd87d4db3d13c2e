// Enroll and Remove: validate and append under write_mu_, wait for the
// record to be durable without any lock, then apply in log order.
#include <cmath>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "server/gallery/gallery_impl.h"
#include "server/gallery/layout.h"
#include "server/gallery/log.h"
#include "server/gallery/wal_format.h"
#include "server/storage/files.h"

namespace candor::gallery {
namespace {

constexpr size_t kMaxEnrollRows = size_t{1} << 24;
constexpr size_t kMaxEnrollBytes = size_t{1} << 30;

std::vector<EntryId> IdRange(EntryId first, uint32_t count) {
  std::vector<EntryId> ids(count);
  for (uint32_t i = 0; i < count; ++i) ids[i] = first + i;
  return ids;
}

}  // namespace

absl::Status Gallery::Impl::WritableLocked() {
  if (destroyed_) {
    return absl::FailedPreconditionError(
        absl::StrCat("gallery ", name_, " has been deleted"));
  }
  if (absl::Status s = RepairLocked(); !s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("gallery ", name_,
                                     " takes no writes after a write error "
                                     "(retried on every write): ",
                                     s.message()));
  }
  return absl::OkStatus();
}

absl::Status Gallery::Impl::RepairLocked() {
  const absl::Status failure = wal_->health();
  if (failure.ok()) return failure;
  // Every record appended is answered (failed ones too) before the log is
  // cut back under them.
  WaitAppliedLocked();
  const uint64_t active = wal_->segment_seq();
  auto names = env_->ListDir(dir_);
  if (!names.ok()) return names.status();
  bool erased = false;
  for (const std::string& name : *names) {
    // A segment after the active one is left by a compaction that failed
    // to switch to it: empty, but recovery would take it for the newest.
    const auto seq = ParseSegmentFileName(name);
    if (!seq.has_value() || *seq <= active) continue;
    if (auto s = env_->EraseFile(storage::JoinPath(dir_, name)); !s.ok()) {
      return s;
    }
    erased = true;
  }
  if (erased) {
    if (auto s = env_->SyncDir(dir_); !s.ok()) return s;
  }
  const uint64_t durable = wal_->durable_ticket();
  if (auto s = wal_->Repair(); !s.ok()) return s;
  // Retries of the failed enrolls must enroll again: their records are gone.
  request_ids_.EraseAfterTicket(durable);
  next_segment_seq_ = active + 1;
  LogWarning(absl::StrCat("gallery ", name_,
                          ": write-ahead log repaired after a write error (",
                          failure.message(), "); taking writes again"));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Gallery::Impl::AppendLocked(
    const std::string& record) {
  auto ticket = wal_->Append(record);
  if (ticket.ok()) last_ticket_ = *ticket;
  return ticket;
}

void Gallery::Impl::WaitAppliedLocked() {
  const uint64_t last = last_ticket_;
  auto done = [this, last]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return applied_ticket_ >= last;
  };
  mu_.ReaderLockWhen(absl::Condition(&done));
  mu_.ReaderUnlock();
}

absl::StatusOr<uint64_t> Gallery::Impl::Commit(
    uint64_t ticket, const std::function<absl::Status()>& apply) {
  const absl::Status durable = wal_->WaitDurable(ticket);
  auto my_turn = [this, ticket]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return applied_ticket_ + 1 == ticket;
  };
  mu_.LockWhen(absl::Condition(&my_turn));
  absl::Status status = durable;
  if (status.ok()) {
    status = apply();
    if (status.ok()) {
      ++version_;
    } else {
      // The record is durable but memory does not reflect it.
      wal_->Poison(status);
    }
  }
  applied_ticket_ = ticket;
  const uint64_t version = version_;
  mu_.Unlock();
  if (!status.ok()) return status;
  return version;
}

absl::StatusOr<EnrollResult> Gallery::Impl::Enroll(
    absl::Span<const float> vectors, const std::vector<std::string>& subjects,
    const std::vector<std::string>& groups, const std::string& request_id) {
  if (absl::Status s = ValidateEnroll(vectors, subjects, groups); !s.ok()) {
    return s;
  }
  const size_t rows = subjects.size();
  std::optional<RequestIdCache::Applied> replay;
  uint64_t ticket = 0;
  EntryId first_id = 0;
  {
    absl::MutexLock lock(&write_mu_);
    if (auto s = WritableLocked(); !s.ok()) return s;
    const RequestIdCache::Applied* applied =
        request_id.empty() ? nullptr : request_ids_.Find(request_id);
    if (applied != nullptr) {
      replay = *applied;
    } else {
      first_id = next_id_;
      auto appended = AppendLocked(
          EncodeEnrollRecord(first_id, request_id, subjects, groups, vectors));
      if (!appended.ok()) return appended.status();
      ticket = *appended;
      next_id_ += rows;
      if (!request_id.empty()) {
        request_ids_.Insert(request_id,
                            {first_id, static_cast<uint32_t>(rows), ticket});
      }
    }
  }
  if (replay.has_value()) return AnswerReplay(*replay);

  auto version = Commit(ticket, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return ApplyEnrollLocked(first_id, vectors, subjects, groups);
  });
  if (!version.ok()) return version.status();
  EnrollResult result;
  result.entry_ids = IdRange(first_id, static_cast<uint32_t>(rows));
  result.version = *version;
  return result;
}

absl::Status Gallery::Impl::ValidateEnroll(
    absl::Span<const float> vectors, const std::vector<std::string>& subjects,
    const std::vector<std::string>& groups) const {
  const size_t rows = subjects.size();
  const size_t dim = static_cast<size_t>(dimension_);
  if (rows == 0) return absl::InvalidArgumentError("enroll has no rows");
  // A log record's length is a u32: keep a batch well inside it.
  if (rows > kMaxEnrollRows ||
      vectors.size() > kMaxEnrollBytes / sizeof(float)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "enroll batch too large: ", rows, " rows of ", dim,
        " (split it; at most ", kMaxEnrollBytes, " bytes of vectors)"));
  }
  if (vectors.size() != rows * dim) {
    return absl::InvalidArgumentError(absl::StrCat(
        "enroll has ", vectors.size(), " values for ", rows, " rows of ",
        dim, " (gallery ", name_, ")"));
  }
  if (!groups.empty() && groups.size() != rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "enroll has ", groups.size(), " groups for ", rows, " rows"));
  }
  for (size_t i = 0; i < rows; ++i) {
    if (subjects[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("enroll row ", i, ": empty subject id"));
    }
  }
  for (size_t i = 0; i < vectors.size(); ++i) {
    if (!std::isfinite(vectors[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("enroll row ", i / dim, ": non-finite value"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<EnrollResult> Gallery::Impl::AnswerReplay(
    const RequestIdCache::Applied& applied) {
  // The original may still be on its way: answer once it is applied.
  if (applied.ticket > 0) {
    if (auto s = wal_->WaitDurable(applied.ticket); !s.ok()) return s;
  }
  const uint64_t ticket = applied.ticket;
  auto done = [this, ticket]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return applied_ticket_ >= ticket;
  };
  EnrollResult result;
  result.entry_ids = IdRange(applied.first_id, applied.count);
  result.replayed = true;
  mu_.ReaderLockWhen(absl::Condition(&done));
  result.version = version_;
  mu_.ReaderUnlock();
  return result;
}

absl::Status Gallery::Impl::ApplyEnrollLocked(
    EntryId first_id, absl::Span<const float> vectors,
    const std::vector<std::string>& subjects,
    const std::vector<std::string>& groups) {
  static const std::string kNoGroup;
  const size_t rows = subjects.size();
  const size_t dim = static_cast<size_t>(dimension_);
  for (size_t i = 0; i < rows; ++i) {
    table_.Add(first_id + i, subjects[i], groups.empty() ? kNoGroup : groups[i],
               vectors.data() + i * dim);
  }
  std::vector<EntryId> ids = IdRange(first_id, static_cast<uint32_t>(rows));
  absl::Status s = index_->Add(ids, vectors);
  if (!s.ok()) {
    for (EntryId id : ids) table_.Remove(id);
  }
  return s;
}

absl::StatusOr<uint64_t> Gallery::Impl::AppendRemoveLocked(
    const std::vector<EntryId>& ids) {
  auto ticket = AppendLocked(EncodeRemoveRecord(ids));
  if (!ticket.ok()) return ticket.status();
  if (!first_removal_at_.has_value()) first_removal_at_ = absl::Now();
  removed_since_compaction_ += ids.size();
  PublishBacklogLocked();
  return ticket;
}

absl::StatusOr<RemoveResult> Gallery::Impl::CommitRemove(
    uint64_t ticket, std::vector<EntryId> ids) {
  auto version = Commit(ticket, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (EntryId id : ids) table_.Remove(id);
    return index_->Remove(ids);
  });
  if (!version.ok()) return version.status();
  RemoveResult result;
  result.removed = std::move(ids);
  result.version = *version;
  return result;
}

absl::StatusOr<RemoveResult> Gallery::Impl::RemoveEntries(
    absl::Span<const EntryId> ids) {
  if (ids.empty()) return absl::InvalidArgumentError("no entry ids to remove");
  std::vector<EntryId> unique;
  absl::flat_hash_set<EntryId> seen;
  for (EntryId id : ids) {
    if (seen.insert(id).second) unique.push_back(id);
  }
  uint64_t ticket;
  {
    absl::MutexLock lock(&write_mu_);
    if (auto s = WritableLocked(); !s.ok()) return s;
    WaitAppliedLocked();
    {
      absl::ReaderMutexLock read(&mu_);
      for (EntryId id : unique) {
        if (!table_.Contains(id)) {
          return absl::NotFoundError(absl::StrCat(
              "entry ", id, " not found in gallery ", name_));
        }
      }
    }
    auto appended = AppendRemoveLocked(unique);
    if (!appended.ok()) return appended.status();
    ticket = *appended;
  }
  return CommitRemove(ticket, std::move(unique));
}

absl::StatusOr<RemoveResult> Gallery::Impl::RemoveSubject(
    const std::string& subject_id) {
  std::vector<EntryId> ids;
  uint64_t ticket;
  {
    absl::MutexLock lock(&write_mu_);
    if (auto s = WritableLocked(); !s.ok()) return s;
    WaitAppliedLocked();
    {
      absl::ReaderMutexLock read(&mu_);
      ids = table_.SubjectEntries(subject_id);
    }
    if (ids.empty()) {
      return absl::NotFoundError(absl::StrCat(
          "subject '", subject_id, "' has no entries in gallery ", name_));
    }
    auto appended = AppendRemoveLocked(ids);
    if (!appended.ok()) return appended.status();
    ticket = *appended;
  }
  return CommitRemove(ticket, std::move(ids));
}

}  // namespace candor::gallery
