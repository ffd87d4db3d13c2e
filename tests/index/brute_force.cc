#include "tests/index/brute_force.h"

#include <algorithm>
#include <cmath>

namespace candor::testing {

std::vector<ScoredId> BruteForceSearch(const std::vector<float>& gallery,
                                       const std::vector<EntryId>& ids,
                                       int dim, const float* probe,
                                       const ProbeQuery& query) {
  std::vector<ScoredId> all;
  for (size_t r = 0; r < ids.size(); ++r) {
    double dot = 0;
    for (int c = 0; c < dim; ++c) dot += double(gallery[r * dim + c]) * probe[c];
    if (dot >= query.threshold) all.push_back({ids[r], static_cast<float>(dot)});
  }
  std::sort(all.begin(), all.end(), BetterCandidate);
  if (all.size() > static_cast<size_t>(query.top_k)) all.resize(query.top_k);
  return all;
}

}  // namespace candor::testing
