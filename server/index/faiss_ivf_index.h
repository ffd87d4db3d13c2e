// Approximate inner-product search on the CPU: FAISS IndexIVFFlat. Until it
// is trained it serves exact search from a flat index, so a new IVF gallery
// works from its first enrollment; Train() builds the inverted lists.
#ifndef CANDOR_SERVER_INDEX_FAISS_IVF_INDEX_H_
#define CANDOR_SERVER_INDEX_FAISS_IVF_INDEX_H_

#include <memory>

#include "faiss/IndexFlat.h"
#include "faiss/IndexIVFFlat.h"
#include "server/index/faiss_flat_index.h"
#include "server/index/index.h"
#include "server/index/index_factory.h"

namespace candor::index {

class FaissIvfIndex final : public Index {
 public:
  static absl::StatusOr<std::unique_ptr<FaissIvfIndex>> Create(
      const IndexConfig& config);

  std::string backend() const override { return "faiss-ivf"; }
  int dimension() const override { return config_.dimension; }
  int64_t size() const override;
  absl::Status Add(absl::Span<const EntryId> ids,
                   absl::Span<const float> vectors) override;
  absl::Status Remove(absl::Span<const EntryId> ids) override;
  absl::StatusOr<SearchHits> Search(
      absl::Span<const float> probes,
      absl::Span<const ProbeQuery> queries) const override;
  MemoryBytes memory() const override;
  bool trained() const override { return ivf_ != nullptr; }
  absl::Status Train(absl::Span<const float> vectors, int nlist) override;

  // The list count used when none is configured: about 4 * sqrt(rows), and
  // at least 39 training rows per list (FAISS's k-means warns below that).
  static int ChooseNlist(int64_t rows);

 private:
  FaissIvfIndex(const IndexConfig& config,
                std::unique_ptr<FaissFlatIndex> untrained);

  IndexConfig config_;
  // Exactly one of the two is set: the flat stand-in before training, the
  // IVF index (owning its quantizer) after.
  std::unique_ptr<FaissFlatIndex> untrained_;
  std::unique_ptr<faiss::IndexIVFFlat> ivf_;
};

}  // namespace candor::index

#endif  // CANDOR_SERVER_INDEX_FAISS_IVF_INDEX_H_
