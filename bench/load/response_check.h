// What candor-bench --check_responses verifies of every successful Search
// answer, so that a smoke run asserts correct results and not only a
// count of OK statuses.
#ifndef CANDOR_BENCH_LOAD_RESPONSE_CHECK_H_
#define CANDOR_BENCH_LOAD_RESPONSE_CHECK_H_

#include <string>

#include "candor/v1/candor.pb.h"

namespace candor::load {

struct CheckOptions {
  // The probes are gallery rows (an enrolled .npy sent back): each probe's
  // best candidate must score 1 within float error.
  bool expect_self_match = false;
};

// "" when `response` answers `request`: one result per probe, in order; at
// most top_k candidates each, best first, none below the request's
// threshold, no entry twice. Otherwise what is wrong, first problem only.
std::string CheckSearchResponse(const v1::SearchRequest& request,
                                const v1::SearchResponse& response,
                                const CheckOptions& options);

}  // namespace candor::load

#endif  // CANDOR_BENCH_LOAD_RESPONSE_CHECK_H_
