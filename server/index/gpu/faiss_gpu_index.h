// The FAISS GPU backend: GpuIndexFlatIP behind candor's Index interface, the
// comparison point for candor's own GPU search. Built only with
// CANDOR_FAISS_GPU (a FAISS built with FAISS_ENABLE_GPU; Debian's is
// CPU-only). Plain C++ header: FAISS types stay in the .cc.
#ifndef CANDOR_SERVER_INDEX_GPU_FAISS_GPU_INDEX_H_
#define CANDOR_SERVER_INDEX_GPU_FAISS_GPU_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/index/index.h"

namespace candor::index::gpu {

struct FaissGpuIndexOptions {
  int dimension = 0;
  // GpuIndexFlatConfig::useFloat16: fp16 storage and GEMM inputs.
  bool fp16_storage = false;
  int device = 0;
};

class FaissGpuIndex final : public Index {
 public:
  static absl::StatusOr<std::unique_ptr<FaissGpuIndex>> Create(
      const FaissGpuIndexOptions& options);
  ~FaissGpuIndex() override;

  std::string backend() const override { return "faiss-gpu"; }
  int dimension() const override { return options_.dimension; }
  int64_t size() const override;
  absl::Status Add(absl::Span<const EntryId> ids,
                   absl::Span<const float> vectors) override;
  // GpuIndexFlat has no remove_ids: the kept rows are read back
  // (reconstruct_n), the index reset and re-filled. O(gallery) per call;
  // acceptable for a comparison backend, not for a churning gallery.
  absl::Status Remove(absl::Span<const EntryId> ids) override;
  // FAISS's top-k (k = the batch's largest top_k), then per probe the
  // threshold, the entry ids, and candor's order (ties by ascending id).
  // Equal scores straddling the k-th place may select other ids than the
  // exact order would: FAISS breaks that tie internally.
  absl::StatusOr<SearchHits> Search(
      absl::Span<const float> probes,
      absl::Span<const ProbeQuery> queries) const override;
  MemoryBytes memory() const override;

 private:
  struct State;  // FAISS objects, defined in the .cc.
  explicit FaissGpuIndex(const FaissGpuIndexOptions& options);

  const FaissGpuIndexOptions options_;
  // FAISS's GPU resources are not safe for concurrent use: every call locks.
  mutable absl::Mutex mu_;
  std::unique_ptr<State> state_ ABSL_GUARDED_BY(mu_);
  // FAISS label (row) -> entry id.
  std::vector<EntryId> row_ids_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<EntryId, int64_t> row_of_ ABSL_GUARDED_BY(mu_);
};

}  // namespace candor::index::gpu

#endif  // CANDOR_SERVER_INDEX_GPU_FAISS_GPU_INDEX_H_
