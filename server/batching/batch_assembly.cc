#include "server/batching/batch_assembly.h"

#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"

namespace candor::batching {

MergedInput MergeRequests(const RequestList& requests) {
  size_t floats = 0, probes = 0;
  for (const auto& request : requests) {
    floats += request->probes.size();
    probes += request->queries.size();
  }
  MergedInput merged;
  merged.probes.reserve(floats);
  merged.queries.reserve(probes);
  for (const auto& request : requests) {
    merged.probes.insert(merged.probes.end(), request->probes.begin(),
                         request->probes.end());
    merged.queries.insert(merged.queries.end(), request->queries.begin(),
                          request->queries.end());
  }
  return merged;
}

absl::StatusOr<std::vector<CandidateLists>> SplitResults(
    CandidateLists merged, absl::Span<const int> request_probes) {
  size_t expected = 0;
  for (int n : request_probes) expected += n;
  if (merged.size() != expected) {
    return absl::InternalError(absl::StrCat("index returned ", merged.size(),
                                            " candidate lists for ", expected,
                                            " probes"));
  }
  std::vector<CandidateLists> split;
  split.reserve(request_probes.size());
  auto next = std::make_move_iterator(merged.begin());
  for (int n : request_probes) {
    split.emplace_back(next, next + n);
    next += n;
  }
  return split;
}

}  // namespace candor::batching
