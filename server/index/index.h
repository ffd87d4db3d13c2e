// The index interface: one contract for every backend (FAISS CPU, FAISS GPU,
// candor's own GPU flat search, IVF). The gallery layer owns an Index and
// serializes mutations; backends need not lock.
#ifndef CANDOR_SERVER_INDEX_INDEX_H_
#define CANDOR_SERVER_INDEX_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "server/common/types.h"

namespace candor::index {

// Per probe: hits with score >= its threshold, best first, ties by ascending
// entry id, at most its top_k.
using SearchHits = std::vector<std::vector<ScoredId>>;

class Index {
 public:
  virtual ~Index() = default;

  // "faiss-cpu", "faiss-ivf", "faiss-gpu", "gpu".
  virtual std::string backend() const = 0;
  virtual int dimension() const = 0;
  // Live vectors.
  virtual int64_t size() const = 0;

  // Adds ids.size() rows of dimension() floats (host memory, row-major,
  // already L2-normalized). Ids are new; the gallery guarantees it.
  virtual absl::Status Add(absl::Span<const EntryId> ids,
                           absl::Span<const float> vectors) = 0;
  // Removes ids that are present; the gallery guarantees they are.
  virtual absl::Status Remove(absl::Span<const EntryId> ids) = 0;

  // probes: queries.size() rows of dimension() floats, host memory,
  // L2-normalized (or, where NormalizesProbes(), rows that pass
  // kernels::CheckRowsNormalizable, at any scale). Safe to call
  // concurrently with other Search calls, never with Add/Remove (the
  // gallery holds a reader lock here, a writer lock there).
  virtual absl::StatusOr<SearchHits> Search(
      absl::Span<const float> probes,
      absl::Span<const ProbeQuery> queries) const = 0;

  // True when Search normalizes the probes itself (candor's GPU flat index:
  // the CUDA kernel, on the device, fused with the conversion to the
  // GEMM's input type), so the caller need only check them. Normalized
  // probes are accepted either way.
  virtual bool NormalizesProbes() const { return false; }

  // Bytes held, host and device.
  virtual MemoryBytes memory() const = 0;

  // Approximate indexes (IVF) serve exact search over what was added until
  // they are trained; flat ones are always trained.
  virtual bool trained() const { return true; }
  // Trains on `vectors` (rows of dimension() floats, host memory) and
  // EMPTIES the index: the caller re-adds every live entry afterwards.
  // `nlist` = 0 keeps the configured count (or chooses one from the rows).
  virtual absl::Status Train(absl::Span<const float> vectors, int nlist) {
    return absl::OkStatus();
  }
};

}  // namespace candor::index

#endif  // CANDOR_SERVER_INDEX_INDEX_H_
