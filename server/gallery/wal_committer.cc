#include "server/gallery/wal_committer.h"

#include <utility>

#include "absl/time/clock.h"

namespace candor::gallery {

WalCommitter::WalCommitter(std::unique_ptr<WalWriter> segment, bool sync,
                           uint64_t older_segments_bytes,
                           std::function<void(absl::Duration)> on_sync)
    : sync_(sync),
      on_sync_(std::move(on_sync)),
      segment_(std::move(segment)),
      sealed_bytes_(older_segments_bytes),
      durable_bytes_(segment_->size_bytes()) {}

absl::StatusOr<uint64_t> WalCommitter::Append(
    absl::string_view framed_record) {
  absl::MutexLock lock(&mu_);
  if (!failed_.ok()) return failed_;
  if (auto s = segment_->Append(framed_record); !s.ok()) {
    // Part of the record may be in the file: nothing may follow it.
    failed_ = s;
    return s;
  }
  ++appended_;
  if (!sync_) {
    synced_ = appended_;
    durable_bytes_ = segment_->size_bytes();
  }
  return appended_;
}

absl::Status WalCommitter::SyncUpTo(uint64_t ticket) {
  while (synced_ < ticket) {
    if (!failed_.ok()) return failed_;
    if (syncing_) {
      auto done = [this, ticket]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !syncing_ || synced_ >= ticket;
      };
      mu_.Await(absl::Condition(&done));
      continue;
    }
    // Leader: one sync for everything appended so far. The segment cannot
    // change while syncing_ is set (Rotate waits for it).
    syncing_ = true;
    ++syncs_;
    const uint64_t target = appended_;
    const uint64_t target_bytes = segment_->size_bytes();
    const WalWriter* segment = segment_.get();
    mu_.Unlock();
    const absl::Time sync_start = absl::Now();
    absl::Status s = segment->Sync();
    if (on_sync_) on_sync_(absl::Now() - sync_start);
    mu_.Lock();
    syncing_ = false;
    if (s.ok()) {
      synced_ = target;
      durable_bytes_ = target_bytes;
    } else {
      failed_ = s;
    }
  }
  return absl::OkStatus();
}

absl::Status WalCommitter::WaitDurable(uint64_t ticket) {
  absl::MutexLock lock(&mu_);
  return SyncUpTo(ticket);
}

absl::Status WalCommitter::Rotate(std::unique_ptr<WalWriter> next) {
  absl::MutexLock lock(&mu_);
  if (auto s = SyncUpTo(appended_); !s.ok()) return s;
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !syncing_; };
  mu_.Await(absl::Condition(&idle));
  sealed_bytes_ += segment_->size_bytes();
  segment_ = std::move(next);
  durable_bytes_ = segment_->size_bytes();
  return absl::OkStatus();
}

void WalCommitter::ForgetSealedBytes() {
  absl::MutexLock lock(&mu_);
  sealed_bytes_ = 0;
}

void WalCommitter::Poison(const absl::Status& error) {
  absl::MutexLock lock(&mu_);
  if (failed_.ok()) failed_ = error;
  poisoned_ = true;
}

void WalCommitter::Fail(const absl::Status& error) {
  absl::MutexLock lock(&mu_);
  if (failed_.ok()) failed_ = error;
}

absl::Status WalCommitter::Repair() {
  absl::MutexLock lock(&mu_);
  if (failed_.ok()) return absl::OkStatus();
  if (poisoned_) return failed_;
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !syncing_; };
  mu_.Await(absl::Condition(&idle));
  // Records after durable_bytes_ all failed (their waiters got failed_),
  // whatever part of them reached the file: cut them off, durably, before
  // anything is appended after them.
  if (auto s = segment_->Truncate(durable_bytes_); !s.ok()) return s;
  synced_ = appended_;
  failed_ = absl::OkStatus();
  return absl::OkStatus();
}

absl::Status WalCommitter::health() const {
  absl::MutexLock lock(&mu_);
  return failed_;
}

uint64_t WalCommitter::segment_seq() const {
  absl::MutexLock lock(&mu_);
  return segment_->seq();
}

uint64_t WalCommitter::durable_ticket() const {
  absl::MutexLock lock(&mu_);
  return synced_;
}

uint64_t WalCommitter::syncs() const {
  absl::MutexLock lock(&mu_);
  return syncs_;
}

uint64_t WalCommitter::total_bytes() const {
  absl::MutexLock lock(&mu_);
  return sealed_bytes_ + segment_->size_bytes();
}

}  // namespace candor::gallery
