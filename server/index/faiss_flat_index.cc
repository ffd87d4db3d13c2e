#include "server/index/faiss_flat_index.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "faiss/impl/IDSelector.h"
#include "server/index/faiss_search.h"
#include "server/index/faiss_status.h"

namespace candor::index {

absl::StatusOr<std::unique_ptr<FaissFlatIndex>> FaissFlatIndex::Create(
    int dimension) {
  if (dimension <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("index dimension must be positive, got ", dimension));
  }
  return std::unique_ptr<FaissFlatIndex>(new FaissFlatIndex(dimension));
}

FaissFlatIndex::FaissFlatIndex(int dimension)
    : flat_(dimension), id_map_(&flat_) {}

absl::Status FaissFlatIndex::Add(absl::Span<const EntryId> ids,
                                 absl::Span<const float> vectors) {
  if (vectors.size() != ids.size() * static_cast<size_t>(flat_.d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Add: ", vectors.size(), " floats for ", ids.size(),
                     " ids of dimension ", flat_.d));
  }
  std::vector<faiss::Index::idx_t> labels(ids.begin(), ids.end());
  return CallFaiss("add", [&] {
    id_map_.add_with_ids(static_cast<faiss::Index::idx_t>(ids.size()),
                         vectors.data(), labels.data());
  });
}

absl::Status FaissFlatIndex::Remove(absl::Span<const EntryId> ids) {
  std::vector<faiss::Index::idx_t> labels(ids.begin(), ids.end());
  faiss::IDSelectorBatch selector(labels.size(), labels.data());
  size_t removed = 0;
  absl::Status status =
      CallFaiss("remove", [&] { removed = id_map_.remove_ids(selector); });
  if (!status.ok()) return status;
  if (removed != ids.size()) {
    return absl::InternalError(absl::StrCat(
        "remove: asked for ", ids.size(), " ids, FAISS removed ", removed));
  }
  return absl::OkStatus();
}

absl::StatusOr<SearchHits> FaissFlatIndex::Search(
    absl::Span<const float> probes,
    absl::Span<const ProbeQuery> queries) const {
  if (probes.size() != queries.size() * static_cast<size_t>(flat_.d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Search: ", probes.size(), " floats for ", queries.size(),
                     " probes of dimension ", flat_.d));
  }
  return SearchFaissIndex(id_map_, probes, queries, nullptr);
}

MemoryBytes FaissFlatIndex::memory() const {
  MemoryBytes bytes;
  bytes.host_bytes = flat_.codes.size() + id_map_.id_map.size() * sizeof(faiss::Index::idx_t);
  return bytes;
}

}  // namespace candor::index
