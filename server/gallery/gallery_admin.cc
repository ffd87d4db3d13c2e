// Index training and the policy blob: changes to what the manifest holds.
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/gallery/gallery_impl.h"
#include "server/index/index_factory.h"

namespace candor::gallery {

absl::Status Gallery::Impl::TrainIndex(int nlist) {
  if (nlist < 0) {
    return absl::InvalidArgumentError(absl::StrCat("nlist ", nlist, " < 0"));
  }
  absl::MutexLock compaction(&compaction_mu_);
  Manifest manifest;
  {
    absl::MutexLock lock(&config_mu_);
    manifest = manifest_;
  }
  if (manifest.config.index.type != index::IndexType::kIvfFlat) {
    return absl::FailedPreconditionError(absl::StrCat(
        "gallery ", name_, " has an exact (flat) index: nothing to train"));
  }
  if (nlist > 0) manifest.config.index.nlist = nlist;

  // Writers wait while the new index is built; searches use the old one.
  absl::MutexLock write(&write_mu_);
  if (auto s = WritableLocked(); !s.ok()) return s;
  WaitAppliedLocked();
  absl::StatusOr<std::unique_ptr<index::Index>> fresh;
  {
    absl::ReaderMutexLock read(&mu_);
    if (table_.size() == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("gallery ", name_, " has no vectors to train on"));
    }
    fresh = BuildIndex(table_, manifest.config.index, options_.backend,
                       /*train=*/true);
  }
  if (!fresh.ok()) return fresh.status();
  {
    // Re-read: the policy blob may have changed meanwhile.
    absl::MutexLock lock(&config_mu_);
    Manifest updated = manifest_;
    updated.config.index.nlist = manifest.config.index.nlist;
    updated.index_trained = true;
    if (auto s = WriteManifest(env_, dir_, updated); !s.ok()) return s;
    manifest_ = std::move(updated);
  }
  absl::MutexLock lock(&mu_);
  index_ = std::move(*fresh);
  return absl::OkStatus();
}

absl::Status Gallery::Impl::SetPolicyBlob(const std::string& blob) {
  absl::MutexLock lock(&config_mu_);
  Manifest manifest = manifest_;
  manifest.config.policy_blob = blob;
  if (auto s = WriteManifest(env_, dir_, manifest); !s.ok()) return s;
  manifest_ = std::move(manifest);
  return absl::OkStatus();
}

}  // namespace candor::gallery
