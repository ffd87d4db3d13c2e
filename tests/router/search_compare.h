// Comparing a router's search answer with the single server's (the
// oracle): the same candidates per probe, scores within kScoreTolerance,
// the same order except among exactly tied scores (whose order follows
// entry ids, numbered differently by the router).
#ifndef CANDOR_TESTS_ROUTER_SEARCH_COMPARE_H_
#define CANDOR_TESTS_ROUTER_SEARCH_COMPARE_H_

#include <string>

#include "candor/v1/candor.pb.h"

namespace candor::testing {

// Shards and the single server each run their own BLAS call over different
// row sets; the sums may round differently in the last bits.
inline constexpr float kScoreTolerance = 1e-5f;

// Adds a gtest failure for every difference, naming `what` and the probe.
void ExpectSameCandidates(const v1::SearchResponse& router,
                          const v1::SearchResponse& single,
                          const std::string& what);

}  // namespace candor::testing

#endif  // CANDOR_TESTS_ROUTER_SEARCH_COMPARE_H_
