// Independent oracle for index tests: float64 dot products over every row,
// threshold, best first, ties by ascending id, top_k.
#ifndef CANDOR_TESTS_INDEX_BRUTE_FORCE_H_
#define CANDOR_TESTS_INDEX_BRUTE_FORCE_H_

#include <cstdint>
#include <random>
#include <vector>

#include "server/common/types.h"

namespace candor::testing {

std::vector<ScoredId> BruteForceSearch(const std::vector<float>& gallery,
                                       const std::vector<EntryId>& ids,
                                       int dim, const float* probe,
                                       const ProbeQuery& query);

// rows x dim unit vectors from a fixed-seed generator.
std::vector<float> RandomUnitRows(int64_t rows, int dim, std::mt19937_64& rng);

}  // namespace candor::testing

#endif  // CANDOR_TESTS_INDEX_BRUTE_FORCE_H_
