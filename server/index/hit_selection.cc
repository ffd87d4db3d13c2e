#include "server/index/hit_selection.h"

#include <algorithm>

namespace candor::index {

std::vector<ScoredId> SelectHits(const float* scores, const int64_t* labels,
                                 int64_t k, const ProbeQuery& query) {
  std::vector<ScoredId> hits;
  for (int64_t j = 0; j < k; ++j) {
    if (labels[j] < 0) continue;
    if (!(scores[j] >= query.threshold)) continue;
    hits.push_back(ScoredId{static_cast<EntryId>(labels[j]), scores[j]});
  }
  std::sort(hits.begin(), hits.end(), BetterCandidate);
  if (static_cast<int64_t>(hits.size()) > query.top_k) {
    hits.resize(static_cast<size_t>(query.top_k));
  }
  return hits;
}

bool BoundaryTieMayBeCut(const float* scores, const int64_t* labels,
                         int64_t k, const ProbeQuery& query) {
  if (k <= query.top_k || labels[k - 1] < 0) return false;  // saw everything
  const float last = scores[k - 1];
  if (!(last >= query.threshold)) return false;
  // FAISS returns scores in descending order: the top_k-th best is at
  // top_k - 1 even before the id tie-break reorders equal scores.
  return scores[query.top_k - 1] == last;
}

}  // namespace candor::index
