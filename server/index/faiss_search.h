// One search path for every FAISS CPU index: a single batched FAISS call at
// the largest k the batch needs, then per-probe threshold / top_k / tie
// handling (hit_selection.h).
#ifndef CANDOR_SERVER_INDEX_FAISS_SEARCH_H_
#define CANDOR_SERVER_INDEX_FAISS_SEARCH_H_

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "faiss/Index.h"
#include "server/index/index.h"

namespace candor::index {

// probes: queries.size() rows of index.d floats (host). `params` may be
// null. The index must not be mutated during the call.
absl::StatusOr<SearchHits> SearchFaissIndex(
    const faiss::Index& index, absl::Span<const float> probes,
    absl::Span<const ProbeQuery> queries,
    const faiss::SearchParameters* params);

}  // namespace candor::index

#endif  // CANDOR_SERVER_INDEX_FAISS_SEARCH_H_
