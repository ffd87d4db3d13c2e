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

std::vector<float> RandomUnitRows(int64_t rows, int dim, std::mt19937_64& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> out(static_cast<size_t>(rows) * dim);
  for (int64_t r = 0; r < rows; ++r) {
    double norm = 0;
    for (int c = 0; c < dim; ++c) {
      float v = normal(rng);
      out[r * dim + c] = v;
      norm += double(v) * v;
    }
    const double inv = 1.0 / std::sqrt(norm);
    for (int c = 0; c < dim; ++c) out[r * dim + c] = float(out[r * dim + c] * inv);
  }
  return out;
}

}  // namespace candor::testing
