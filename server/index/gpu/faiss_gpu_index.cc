// FaissGpuIndex (see faiss_gpu_index.h). Every FAISS call is wrapped: FAISS
// reports caller errors and CUDA failures as exceptions, which become an
// absl::Status here and never cross the module boundary.
#include "server/index/gpu/faiss_gpu_index.h"

#include <faiss/gpu/GpuIndexFlat.h>
#include <faiss/gpu/StandardGpuResources.h>
#include <faiss/impl/FaissException.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kernels/select_topk.h"

namespace candor::index::gpu {
namespace {

// Runs `fn`, turning FAISS (and other) exceptions into Internal errors that
// name the operation.
template <typename Fn>
absl::Status FaissCall(const char* what, Fn&& fn) {
  try {
    fn();
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(
        absl::StrCat("FAISS GPU ", what, ": ", e.what()));
  } catch (const std::bad_alloc& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("FAISS GPU ", what, ": out of memory"));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("FAISS GPU ", what, ": ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace

struct FaissGpuIndex::State {
  faiss::gpu::StandardGpuResources resources;
  std::unique_ptr<faiss::gpu::GpuIndexFlatIP> index;
};

FaissGpuIndex::FaissGpuIndex(const FaissGpuIndexOptions& options)
    : options_(options) {}

FaissGpuIndex::~FaissGpuIndex() = default;

absl::StatusOr<std::unique_ptr<FaissGpuIndex>> FaissGpuIndex::Create(
    const FaissGpuIndexOptions& options) {
  if (options.dimension < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("dimension must be positive, got ", options.dimension));
  }
  std::unique_ptr<FaissGpuIndex> index(new FaissGpuIndex(options));
  auto state = std::make_unique<State>();
  absl::Status s = FaissCall("create", [&] {
    faiss::gpu::GpuIndexFlatConfig config;
    config.device = options.device;
    config.useFloat16 = options.fp16_storage;
    state->index = std::make_unique<faiss::gpu::GpuIndexFlatIP>(
        &state->resources, options.dimension, config);
  });
  if (!s.ok()) return s;
  absl::MutexLock lock(&index->mu_);
  index->state_ = std::move(state);
  return index;
}

int64_t FaissGpuIndex::size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(row_of_.size());
}

absl::Status FaissGpuIndex::Add(absl::Span<const EntryId> ids,
                                absl::Span<const float> vectors) {
  const size_t dim = static_cast<size_t>(options_.dimension);
  if (vectors.size() != ids.size() * dim) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Add: ", vectors.size(), " floats for ", ids.size(), " ids"));
  }
  absl::MutexLock lock(&mu_);
  for (EntryId id : ids) {
    if (row_of_.contains(id)) {
      return absl::AlreadyExistsError(absl::StrCat("entry id ", id));
    }
  }
  absl::Status s = FaissCall("add", [&] {
    state_->index->add(static_cast<int64_t>(ids.size()), vectors.data());
  });
  if (!s.ok()) return s;
  for (EntryId id : ids) {
    row_of_[id] = static_cast<int64_t>(row_ids_.size());
    row_ids_.push_back(id);
  }
  return absl::OkStatus();
}

absl::Status FaissGpuIndex::Remove(absl::Span<const EntryId> ids) {
  absl::MutexLock lock(&mu_);
  for (EntryId id : ids) {
    if (!row_of_.contains(id)) {
      return absl::NotFoundError(absl::StrCat("entry id ", id));
    }
  }
  if (ids.empty()) return absl::OkStatus();
  const int64_t dim = options_.dimension;
  const int64_t stored = static_cast<int64_t>(row_ids_.size());
  std::vector<float> all(static_cast<size_t>(stored * dim));
  absl::Status s = FaissCall("reconstruct_n", [&] {
    state_->index->reconstruct_n(0, stored, all.data());
  });
  if (!s.ok()) return s;
  for (EntryId id : ids) row_of_.erase(id);
  std::vector<float> kept;
  std::vector<EntryId> kept_ids;
  kept.reserve(row_of_.size() * static_cast<size_t>(dim));
  kept_ids.reserve(row_of_.size());
  for (int64_t row = 0; row < stored; ++row) {
    if (!row_of_.contains(row_ids_[row])) continue;
    kept.insert(kept.end(), all.begin() + row * dim,
                all.begin() + (row + 1) * dim);
    kept_ids.push_back(row_ids_[row]);
  }
  s = FaissCall("reset/add", [&] {
    state_->index->reset();
    state_->index->add(static_cast<int64_t>(kept_ids.size()), kept.data());
  });
  row_ids_ = std::move(kept_ids);
  row_of_.clear();
  if (!s.ok()) {
    // The FAISS index is in an unknown state: start from empty so that the
    // maps never point at rows that do not exist.
    row_ids_.clear();
    return s;
  }
  for (int64_t row = 0; row < static_cast<int64_t>(row_ids_.size()); ++row) {
    row_of_[row_ids_[row]] = row;
  }
  return absl::OkStatus();
}

absl::StatusOr<SearchHits> FaissGpuIndex::Search(
    absl::Span<const float> probes,
    absl::Span<const ProbeQuery> queries) const {
  const int64_t dim = options_.dimension;
  if (probes.size() != queries.size() * static_cast<size_t>(dim)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Search: ", probes.size(), " floats for ", queries.size(), " probes"));
  }
  int k = 1;
  for (const ProbeQuery& q : queries) {
    if (absl::Status s = kernels::ValidateTopK(q.top_k); !s.ok()) return s;
    k = std::max(k, q.top_k);
  }
  SearchHits hits(queries.size());
  absl::MutexLock lock(&mu_);
  const int64_t stored = static_cast<int64_t>(row_ids_.size());
  if (stored == 0 || queries.empty()) return hits;
  k = static_cast<int>(std::min<int64_t>(k, stored));
  const int64_t n = static_cast<int64_t>(queries.size());
  std::vector<float> scores(static_cast<size_t>(n) * k);
  std::vector<int64_t> labels(static_cast<size_t>(n) * k);
  absl::Status s = FaissCall("search", [&] {
    state_->index->search(n, probes.data(), k, scores.data(), labels.data());
  });
  if (!s.ok()) return s;
  for (int64_t p = 0; p < n; ++p) {
    std::vector<ScoredId>& out = hits[p];
    for (int i = 0; i < k; ++i) {
      const int64_t label = labels[p * k + i];
      const float score = scores[p * k + i];
      if (label < 0 || score < queries[p].threshold) continue;
      out.push_back(ScoredId{row_ids_[label], score});
    }
    std::sort(out.begin(), out.end(), BetterCandidate);
    if (static_cast<int>(out.size()) > queries[p].top_k) {
      out.resize(static_cast<size_t>(queries[p].top_k));
    }
  }
  return hits;
}

MemoryBytes FaissGpuIndex::memory() const {
  absl::MutexLock lock(&mu_);
  MemoryBytes bytes;
  bytes.host_bytes =
      row_of_.capacity() * (sizeof(EntryId) + sizeof(int64_t) + 1) +
      row_ids_.capacity() * sizeof(EntryId);
  // Gallery storage only: FAISS keeps its scratch in the resources object,
  // which it does not report per index.
  bytes.device_bytes = static_cast<uint64_t>(row_ids_.size()) *
                       options_.dimension * (options_.fp16_storage ? 2 : 4);
  return bytes;
}

}  // namespace candor::index::gpu
