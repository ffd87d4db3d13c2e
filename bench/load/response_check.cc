#include "bench/load/response_check.h"

#include <set>

#include "absl/strings/str_cat.h"

namespace candor::load {
namespace {

// A probe equal to an enrolled row scores 1 up to float32 rounding of the
// two normalizations and the dot product.
constexpr float kSelfMatchScore = 0.9999f;

}  // namespace

std::string CheckSearchResponse(const v1::SearchRequest& request,
                                const v1::SearchResponse& response,
                                const CheckOptions& options) {
  const int probes = static_cast<int>(request.probes().rows());
  if (response.results_size() != probes) {
    return absl::StrCat(response.results_size(), " results for ", probes,
                        " probes");
  }
  for (int i = 0; i < probes; ++i) {
    const v1::ProbeResult& result = response.results(i);
    if (result.probe_index() != static_cast<uint32_t>(i)) {
      return absl::StrCat("result ", i, " names probe ", result.probe_index());
    }
    if (result.candidates_size() > static_cast<int>(request.top_k())) {
      return absl::StrCat("probe ", i, ": ", result.candidates_size(),
                          " candidates for top_k ", request.top_k());
    }
    std::set<uint64_t> seen;
    for (int j = 0; j < result.candidates_size(); ++j) {
      const v1::Candidate& c = result.candidates(j);
      if (request.has_threshold() && c.score() < request.threshold()) {
        return absl::StrCat("probe ", i, ": score ", c.score(),
                            " below the threshold ", request.threshold());
      }
      if (j > 0 && c.score() > result.candidates(j - 1).score()) {
        return absl::StrCat("probe ", i, ": candidates not best first at rank ",
                            j);
      }
      if (!seen.insert(c.entry_id()).second) {
        return absl::StrCat("probe ", i, ": entry ", c.entry_id(), " twice");
      }
    }
    if (options.expect_self_match &&
        (result.candidates_size() == 0 ||
         result.candidates(0).score() < kSelfMatchScore)) {
      return absl::StrCat(
          "probe ", i, ": an enrolled row did not find itself",
          result.candidates_size() == 0
              ? std::string(" (no candidates)")
              : absl::StrCat(" (best score ", result.candidates(0).score(),
                             ")"));
    }
  }
  return "";
}

}  // namespace candor::load
