// Turning the requests of one batch into one index call's input, and the
// call's output back into per-request answers. Each probe keeps its own
// query (threshold, top_k), so no parameter is shared across requests.
#ifndef CANDOR_SERVER_BATCHING_BATCH_ASSEMBLY_H_
#define CANDOR_SERVER_BATCHING_BATCH_ASSEMBLY_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "server/batching/request_queue.h"
#include "server/common/types.h"

namespace candor::batching {

// The concatenated probes (row-major, host memory) and queries of a batch,
// in request order.
struct MergedInput {
  std::vector<float> probes;
  std::vector<ProbeQuery> queries;
};

// requests: one lane's batch (same key and dimension), non-empty.
MergedInput MergeRequests(const RequestList& requests);

using CandidateLists = std::vector<std::vector<Candidate>>;

// Cuts `merged` (one list per probe of the batch) into consecutive pieces of
// request_probes[i] lists. Internal error when the counts disagree: the
// index broke its contract and no request may get another's answer.
absl::StatusOr<std::vector<CandidateLists>> SplitResults(
    CandidateLists merged, absl::Span<const int> request_probes);

}  // namespace candor::batching

#endif  // CANDOR_SERVER_BATCHING_BATCH_ASSEMBLY_H_
