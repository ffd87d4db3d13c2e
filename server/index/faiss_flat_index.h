// Exact inner-product search on the CPU: FAISS IndexFlatIP under an id map.
// Vectors live in host memory (FAISS's own copy, 4 * d bytes per entry).
#ifndef CANDOR_SERVER_INDEX_FAISS_FLAT_INDEX_H_
#define CANDOR_SERVER_INDEX_FAISS_FLAT_INDEX_H_

#include <memory>

#include "faiss/IndexFlat.h"
#include "faiss/IndexIDMap.h"
#include "server/index/index.h"

namespace candor::index {

class FaissFlatIndex final : public Index {
 public:
  static absl::StatusOr<std::unique_ptr<FaissFlatIndex>> Create(int dimension);

  std::string backend() const override { return "faiss-cpu"; }
  int dimension() const override { return static_cast<int>(flat_.d); }
  int64_t size() const override { return id_map_.ntotal; }
  absl::Status Add(absl::Span<const EntryId> ids,
                   absl::Span<const float> vectors) override;
  absl::Status Remove(absl::Span<const EntryId> ids) override;
  absl::StatusOr<SearchHits> Search(
      absl::Span<const float> probes,
      absl::Span<const ProbeQuery> queries) const override;
  MemoryBytes memory() const override;

 private:
  explicit FaissFlatIndex(int dimension);

  faiss::IndexFlatIP flat_;
  // Maps FAISS's dense row numbers to entry ids; does not own flat_.
  faiss::IndexIDMap id_map_;
};

}  // namespace candor::index

#endif  // CANDOR_SERVER_INDEX_FAISS_FLAT_INDEX_H_
