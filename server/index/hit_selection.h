// Turning an index's raw top-k into candor's answer: keep hits >= the
// probe's threshold, order best first with ties by ascending entry id, cut
// to top_k. Shared by the CPU backends.
#ifndef CANDOR_SERVER_INDEX_HIT_SELECTION_H_
#define CANDOR_SERVER_INDEX_HIT_SELECTION_H_

#include <cstdint>
#include <vector>

#include "server/common/types.h"

namespace candor::index {

// scores/labels: the k raw results of one probe as FAISS returns them
// (descending scores; label -1 marks an empty slot).
std::vector<ScoredId> SelectHits(const float* scores, const int64_t* labels,
                                 int64_t k, const ProbeQuery& query);

// Whether a raw top-k of size k may have cut a tie at the probe's top_k
// boundary: the k-th raw score (the last) equals the score at position
// top_k - 1 and is >= threshold, so an unseen entry with the same score and
// a smaller id could belong in the answer. Such a probe's tie is settled
// by one range pass (faiss_search.h: ResolveBoundaryTie).
bool BoundaryTieMayBeCut(const float* scores, const int64_t* labels,
                         int64_t k, const ProbeQuery& query);

}  // namespace candor::index

#endif  // CANDOR_SERVER_INDEX_HIT_SELECTION_H_
