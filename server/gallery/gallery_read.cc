// Searches and descriptions: all under the shared lock.
#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/gallery/gallery_impl.h"

namespace candor::gallery {

absl::StatusOr<SearchOutcome> Gallery::Impl::Search(
    absl::Span<const float> probes,
    absl::Span<const ProbeQuery> queries) const {
  if (probes.size() != queries.size() * static_cast<size_t>(dimension_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "search has ", probes.size(), " values for ", queries.size(),
        " probes of ", dimension_, " (gallery ", name_, ")"));
  }
  absl::ReaderMutexLock lock(&mu_);
  SearchOutcome outcome;
  outcome.version = version_;
  std::vector<std::vector<Candidate>>& out = outcome.candidates;
  out.resize(queries.size());
  if (table_.size() == 0 || queries.empty()) return outcome;
  auto hits = index_->Search(probes, queries);
  if (!hits.ok()) return hits.status();
  if (hits->size() != queries.size()) {
    return absl::InternalError(absl::StrCat(
        "index returned ", hits->size(), " hit lists for ", queries.size(),
        " probes"));
  }
  for (size_t q = 0; q < queries.size(); ++q) {
    out[q].reserve((*hits)[q].size());
    for (const ScoredId& hit : (*hits)[q]) {
      const int64_t row = table_.RowOf(hit.id);
      if (row < 0) {
        return absl::InternalError(absl::StrCat(
            "index returned entry ", hit.id, " which gallery ", name_,
            " does not hold"));
      }
      const size_t r = static_cast<size_t>(row);
      out[q].push_back(Candidate{hit.id, table_.subject_at(r),
                                 table_.group_at(r), hit.score});
    }
  }
  return outcome;
}

GalleryInfo Gallery::Impl::Info() const {
  GalleryInfo info;
  {
    absl::MutexLock lock(&config_mu_);
    info.config = manifest_.config;
  }
  info.erasure_backlog_entries =
      erasure_backlog_.load(std::memory_order_relaxed);
  info.compaction_failures =
      compaction_failures_.load(std::memory_order_relaxed);
  absl::ReaderMutexLock lock(&mu_);
  info.backend = index_->backend();
  info.size = table_.size();
  info.subjects = table_.subject_count();
  info.groups = table_.group_counts();
  info.version = version_;
  info.memory = index_->memory();
  info.memory.host_bytes += table_.HostBytes();
  info.memory.mapped_bytes = table_.MappedBytes();
  info.trained = index_->trained();
  return info;
}

uint64_t Gallery::Impl::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return table_.size();
}

std::string Gallery::Impl::backend() const {
  absl::ReaderMutexLock lock(&mu_);
  return index_->backend();
}

bool Gallery::Impl::normalizes_probes() const {
  absl::ReaderMutexLock lock(&mu_);
  return index_->NormalizesProbes();
}

std::string Gallery::Impl::policy_blob() const {
  absl::MutexLock lock(&config_mu_);
  return manifest_.config.policy_blob;
}

std::vector<EntryMeta> Gallery::Impl::Entries() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<EntryMeta> out(table_.size());
  for (size_t row = 0; row < table_.size(); ++row) {
    out[row] = EntryMeta{table_.id_at(row), table_.subject_at(row),
                         table_.group_at(row)};
  }
  return out;
}

absl::Status Gallery::Impl::GetVector(EntryId id, float* out) const {
  absl::ReaderMutexLock lock(&mu_);
  const int64_t row = table_.RowOf(id);
  if (row < 0) {
    return absl::NotFoundError(
        absl::StrCat("entry ", id, " not found in gallery ", name_));
  }
  std::memcpy(out, table_.vector_at(static_cast<size_t>(row)),
              static_cast<size_t>(dimension_) * sizeof(float));
  return absl::OkStatus();
}

}  // namespace candor::gallery
