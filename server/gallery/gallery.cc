#include "server/gallery/gallery.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/gallery/gallery_impl.h"
#include "server/gallery/layout.h"
#include "server/gallery/log.h"
#include "server/storage/files.h"

namespace candor::gallery {
namespace {

// Embedding dimensions the gallery accepts (the API's documented range).
constexpr int kMaxDimension = 4096;

}  // namespace

absl::StatusOr<std::unique_ptr<Gallery::Impl>> Gallery::Impl::FromRecovered(
    std::string dir, GalleryOptions options, RecoveredGallery recovered) {
  const Manifest& manifest = recovered.manifest;
  // A bf16 index rescores from the table's rows (the source follows the
  // table into the Impl). A trained approximate index is retrained on the
  // recovered vectors (its centroids are not persisted).
  auto index = BuildIndex(recovered.state.table, manifest.config.index,
                          options.backend, manifest.index_trained);
  if (!index.ok()) return index.status();
  return std::unique_ptr<Impl>(new Impl(std::move(dir), std::move(options),
                                        std::move(recovered),
                                        std::move(*index)));
}

Gallery::Impl::Impl(std::string dir, GalleryOptions options,
                    RecoveredGallery recovered,
                    std::unique_ptr<index::Index> index)
    : dir_(std::move(dir)),
      options_(std::move(options)),
      env_(options_.env),
      name_(recovered.manifest.config.name),
      dimension_(recovered.manifest.config.index.dimension),
      created_at_us_(recovered.manifest.config.created_at_us),
      next_id_(recovered.state.next_id),
      request_ids_(std::move(recovered.state.request_ids)),
      table_(std::move(recovered.state.table)),
      index_(std::move(index)),
      version_(recovered.state.version),
      manifest_(std::move(recovered.manifest)) {
  next_segment_seq_ = recovered.segment->seq() + 1;
  wal_ = std::make_unique<WalCommitter>(std::move(recovered.segment),
                                        options_.sync_wal,
                                        recovered.older_segments_bytes,
                                        options_.on_wal_sync);
  removed_since_compaction_ = recovered.removed_entries;
  erasure_backlog_ = recovered.removed_entries;
  if (recovered.removed_entries > 0) first_removal_at_ = absl::Now();
}

absl::StatusOr<std::unique_ptr<Gallery>> Gallery::Create(
    const std::string& dir, const GalleryConfig& config,
    const GalleryOptions& options) {
  const int dim = config.index.dimension;
  if (dim < 1 || dim > kMaxDimension) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dimension ", dim, " is outside 1..", kMaxDimension));
  }
  if (config.name.empty()) {
    return absl::InvalidArgumentError("gallery name is empty");
  }
  if (config.index.nlist < 0 || config.index.default_nprobe < 0) {
    return absl::InvalidArgumentError("nlist and nprobe must be >= 0");
  }
  RecoveredGallery fresh;
  fresh.manifest.config = config;
  if (fresh.manifest.config.created_at_us == 0) {
    fresh.manifest.config.created_at_us = absl::ToUnixMicros(absl::Now());
  }
  fresh.state = SnapshotState(dim);
  storage::Env* env = options.env;
  if (auto s = env->CreateDir(dir); !s.ok()) return s;
  // The manifest goes last: a directory without one is a half-created
  // gallery that the store erases on open.
  absl::Status status;
  auto segment = WalWriter::Create(env, dir, 1, dim);
  if (segment.ok()) {
    fresh.segment = std::move(*segment);
    status = WriteManifest(env, dir, fresh.manifest);
    // Make the new directory's own entry durable.
    if (status.ok()) status = env->SyncDir(storage::ParentDir(dir));
  } else {
    status = segment.status();
  }
  absl::StatusOr<std::unique_ptr<Impl>> impl =
      status.ok() ? Impl::FromRecovered(dir, options, std::move(fresh))
                  : absl::StatusOr<std::unique_ptr<Impl>>(status);
  if (!impl.ok()) {
    if (auto s = storage::EraseDirectory(env, dir); !s.ok()) {
      LogWarning(absl::StrCat("cleaning up ", dir, ": ", s.message()));
    }
    return impl.status();
  }
  return std::unique_ptr<Gallery>(new Gallery(std::move(*impl)));
}

absl::StatusOr<std::unique_ptr<Gallery>> Gallery::Open(
    const std::string& dir, const GalleryOptions& options,
    RecoveryDropped* dropped) {
  auto recovered = RecoverGallery(options.env, dir);
  if (!recovered.ok()) return recovered.status();
  if (dropped != nullptr) *dropped = recovered->dropped;
  auto impl = Impl::FromRecovered(dir, options, std::move(*recovered));
  if (!impl.ok()) return impl.status();
  return std::unique_ptr<Gallery>(new Gallery(std::move(*impl)));
}

Gallery::Gallery(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gallery::~Gallery() = default;

const std::string& Gallery::name() const { return impl_->name(); }
int Gallery::dimension() const { return impl_->dimension(); }
int64_t Gallery::created_at_us() const { return impl_->created_at_us(); }

absl::StatusOr<EnrollResult> Gallery::Enroll(
    absl::Span<const float> vectors, const std::vector<std::string>& subject_ids,
    const std::vector<std::string>& groups, const std::string& request_id) {
  return impl_->Enroll(vectors, subject_ids, groups, request_id);
}

absl::StatusOr<RemoveResult> Gallery::RemoveEntries(
    absl::Span<const EntryId> ids) {
  return impl_->RemoveEntries(ids);
}

absl::StatusOr<RemoveResult> Gallery::RemoveSubject(
    const std::string& subject_id) {
  return impl_->RemoveSubject(subject_id);
}

absl::StatusOr<SearchOutcome> Gallery::Search(
    absl::Span<const float> probes, absl::Span<const ProbeQuery> queries) const {
  return impl_->Search(probes, queries);
}

absl::StatusOr<CompactResult> Gallery::Compact() { return impl_->Compact(); }
absl::Status Gallery::TrainIndex(int nlist) { return impl_->TrainIndex(nlist); }
GalleryInfo Gallery::Info() const { return impl_->Info(); }
std::vector<EntryMeta> Gallery::Entries() const { return impl_->Entries(); }
absl::Status Gallery::GetVector(EntryId id, float* out) const {
  return impl_->GetVector(id, out);
}
absl::Status Gallery::SetPolicyBlob(const std::string& blob) {
  return impl_->SetPolicyBlob(blob);
}
uint64_t Gallery::size() const { return impl_->size(); }
std::string Gallery::backend() const { return impl_->backend(); }
bool Gallery::normalizes_probes() const { return impl_->normalizes_probes(); }
std::string Gallery::policy_blob() const { return impl_->policy_blob(); }
absl::Status Gallery::DestroyFiles() { return impl_->DestroyFiles(); }
absl::Status Gallery::MaybeCompact(absl::Time now) {
  return impl_->MaybeCompact(now);
}

}  // namespace candor::gallery
