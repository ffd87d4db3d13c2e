#include "server/index/faiss_ivf_index.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "faiss/IndexIVF.h"
#include "faiss/impl/IDSelector.h"
#include "server/index/faiss_search.h"
#include "server/index/faiss_status.h"

namespace candor::index {

absl::StatusOr<std::unique_ptr<FaissIvfIndex>> FaissIvfIndex::Create(
    const IndexConfig& config) {
  auto flat = FaissFlatIndex::Create(config.dimension);
  if (!flat.ok()) return flat.status();
  if (config.nlist < 0 || config.default_nprobe < 0) {
    return absl::InvalidArgumentError("IVF nlist and nprobe must be >= 0");
  }
  return std::unique_ptr<FaissIvfIndex>(
      new FaissIvfIndex(config, *std::move(flat)));
}

FaissIvfIndex::FaissIvfIndex(const IndexConfig& config,
                             std::unique_ptr<FaissFlatIndex> untrained)
    : config_(config), untrained_(std::move(untrained)) {}

int FaissIvfIndex::ChooseNlist(int64_t rows) {
  const int64_t by_sqrt = static_cast<int64_t>(4.0 * std::sqrt(double(rows)));
  const int64_t by_training = rows / 39;
  return static_cast<int>(std::max<int64_t>(1, std::min(by_sqrt, by_training)));
}

int64_t FaissIvfIndex::size() const {
  return ivf_ ? ivf_->ntotal : untrained_->size();
}

absl::Status FaissIvfIndex::Train(absl::Span<const float> vectors, int nlist) {
  const int64_t d = config_.dimension;
  if (vectors.size() % static_cast<size_t>(d) != 0) {
    return absl::InvalidArgumentError("Train: vectors are not whole rows");
  }
  const int64_t rows = static_cast<int64_t>(vectors.size()) / d;
  if (nlist <= 0) nlist = config_.nlist;
  if (nlist <= 0) nlist = ChooseNlist(rows);
  if (rows < nlist) {
    return absl::FailedPreconditionError(absl::StrCat(
        "IVF training needs at least nlist = ", nlist, " vectors, have ", rows));
  }
  auto quantizer = std::make_unique<faiss::IndexFlatIP>(d);
  auto ivf = std::make_unique<faiss::IndexIVFFlat>(
      quantizer.get(), d, static_cast<size_t>(nlist),
      faiss::METRIC_INNER_PRODUCT);
  ivf->own_fields = true;
  quantizer.release();  // owned by ivf now
  ivf->nprobe = static_cast<size_t>(std::max(1, config_.default_nprobe));
  absl::Status status =
      CallFaiss("IVF train", [&] { ivf->train(rows, vectors.data()); });
  if (!status.ok()) return status;
  ivf_ = std::move(ivf);
  untrained_.reset();
  config_.nlist = nlist;
  return absl::OkStatus();
}

absl::Status FaissIvfIndex::Add(absl::Span<const EntryId> ids,
                                absl::Span<const float> vectors) {
  if (!ivf_) return untrained_->Add(ids, vectors);
  if (vectors.size() != ids.size() * static_cast<size_t>(config_.dimension)) {
    return absl::InvalidArgumentError("Add: vectors do not match ids");
  }
  std::vector<faiss::Index::idx_t> labels(ids.begin(), ids.end());
  return CallFaiss("IVF add", [&] {
    ivf_->add_with_ids(static_cast<faiss::Index::idx_t>(ids.size()), vectors.data(),
                       labels.data());
  });
}

absl::Status FaissIvfIndex::Remove(absl::Span<const EntryId> ids) {
  if (!ivf_) return untrained_->Remove(ids);
  std::vector<faiss::Index::idx_t> labels(ids.begin(), ids.end());
  faiss::IDSelectorBatch selector(labels.size(), labels.data());
  size_t removed = 0;
  absl::Status status =
      CallFaiss("IVF remove", [&] { removed = ivf_->remove_ids(selector); });
  if (!status.ok()) return status;
  if (removed != ids.size()) {
    return absl::InternalError(absl::StrCat(
        "IVF remove: asked for ", ids.size(), " ids, FAISS removed ", removed));
  }
  return absl::OkStatus();
}

absl::StatusOr<SearchHits> FaissIvfIndex::Search(
    absl::Span<const float> probes,
    absl::Span<const ProbeQuery> queries) const {
  if (!ivf_) return untrained_->Search(probes, queries);
  const size_t d = static_cast<size_t>(config_.dimension);
  if (probes.size() != queries.size() * d) {
    return absl::InvalidArgumentError("Search: probes do not match queries");
  }
  // One FAISS call per distinct nprobe in the batch (usually one).
  std::map<int, std::vector<size_t>> by_nprobe;
  for (size_t i = 0; i < queries.size(); ++i) {
    int nprobe = queries[i].nprobe > 0 ? queries[i].nprobe
                                       : static_cast<int>(ivf_->nprobe);
    by_nprobe[std::min<int>(nprobe, static_cast<int>(ivf_->nlist))].push_back(i);
  }
  SearchHits hits(queries.size());
  for (const auto& [nprobe, rows] : by_nprobe) {
    std::vector<float> group_probes(rows.size() * d);
    std::vector<ProbeQuery> group_queries(rows.size());
    for (size_t j = 0; j < rows.size(); ++j) {
      std::copy_n(probes.data() + rows[j] * d, d, group_probes.data() + j * d);
      group_queries[j] = queries[rows[j]];
    }
    faiss::SearchParametersIVF params;
    params.nprobe = static_cast<size_t>(nprobe);
    auto group_hits =
        SearchFaissIndex(*ivf_, group_probes, group_queries, &params);
    if (!group_hits.ok()) return group_hits.status();
    for (size_t j = 0; j < rows.size(); ++j) {
      hits[rows[j]] = std::move((*group_hits)[j]);
    }
  }
  return hits;
}

MemoryBytes FaissIvfIndex::memory() const {
  if (!ivf_) return untrained_->memory();
  MemoryBytes bytes;
  const size_t d = static_cast<size_t>(config_.dimension);
  // Each listed vector: its code (4 * d bytes) and its id; plus centroids.
  bytes.host_bytes = static_cast<uint64_t>(ivf_->ntotal) *
                         (d * sizeof(float) + sizeof(faiss::Index::idx_t)) +
                     ivf_->nlist * d * sizeof(float);
  return bytes;
}

}  // namespace candor::index
