// One search path for every FAISS CPU index: a single batched FAISS call at
// the largest k the batch needs, then per-probe threshold / top_k / tie
// handling (hit_selection.h).
//
// Cost: one k-NN pass over the batch, plus, for a probe whose top_k-th
// score ties with the last one returned (so that an unseen entry with the
// same score and a smaller id might belong in the answer), one range pass
// of that probe, rarely two. The cost never depends on how many entries
// tie, and the answer stays exact: ties at the boundary are broken by
// ascending entry id over every tied entry.
#ifndef CANDOR_SERVER_INDEX_FAISS_SEARCH_H_
#define CANDOR_SERVER_INDEX_FAISS_SEARCH_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "faiss/Index.h"
#include "server/index/index.h"

namespace candor::index {

// probes: queries.size() rows of index.d floats (host). `params` may be
// null. The index must not be mutated during the call. The index must
// implement range_search for inner product (flat and IVF indexes do).
absl::StatusOr<SearchHits> SearchFaissIndex(
    const faiss::Index& index, absl::Span<const float> probes,
    absl::Span<const ProbeQuery> queries,
    const faiss::SearchParameters* params);

// How far below the boundary score the tie pass reaches: more than the
// difference between two summation orders of one inner product of unit
// vectors (about dimension x 2^-24), so the pass nearly always holds top_k
// hits at once.
inline constexpr float kTieRangeMargin = 1e-4f;

// The answer for one probe whose k-NN pass put `boundary` (its top_k-th
// score, >= threshold) at the edge of what it returned: a range pass for
// every entry above boundary - kTieRangeMargin (or above the threshold,
// when that is higher), then the best top_k by score, ties by ascending
// id. Exact; when that pass holds fewer than top_k hits (the two passes'
// arithmetic disagreed by more than the margin) a second range pass takes
// every hit above the threshold. At most two passes, whatever the ties.
absl::StatusOr<std::vector<ScoredId>> ResolveBoundaryTie(
    const faiss::Index& index, const float* probe, const ProbeQuery& query,
    float boundary, const faiss::SearchParameters* params);

}  // namespace candor::index

#endif  // CANDOR_SERVER_INDEX_FAISS_SEARCH_H_
