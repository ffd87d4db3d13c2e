// Independent oracle for index tests: float64 dot products over every row,
// threshold, best first, ties by ascending id, top_k.
#ifndef CANDOR_TESTS_INDEX_BRUTE_FORCE_H_
#define CANDOR_TESTS_INDEX_BRUTE_FORCE_H_

#include <cstdint>
#include <random>
#include <vector>

#include "server/common/types.h"
#include "tests/lib/random_rows.h"

namespace candor::testing {

std::vector<ScoredId> BruteForceSearch(const std::vector<float>& gallery,
                                       const std::vector<EntryId>& ids,
                                       int dim, const float* probe,
                                       const ProbeQuery& query);

}  // namespace candor::testing

#endif  // CANDOR_TESTS_INDEX_BRUTE_FORCE_H_
