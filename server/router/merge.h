// Merging the shards' answers to one search into the answer a single
// server holding the whole gallery gives.
#ifndef CANDOR_SERVER_ROUTER_MERGE_H_
#define CANDOR_SERVER_ROUTER_MERGE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "candor/v1/candor.pb.h"
#include "server/router/fan_out.h"
#include "server/router/shard_set.h"

namespace candor::router {

using SearchCall = ShardCall<v1::SearchRequest, v1::SearchResponse>;

// Per probe: every shard's candidates, entry ids made global, sorted by
// score (descending) then global entry id (ascending), the first top_k
// kept. Each shard returns its own top_k at the same threshold, so the
// merged top_k is exact (for FLAT galleries; IVF shards each search their
// own lists). Ties between shards fall by global id, which orders shard 0
// first: the candidates and scores equal a single server's, the order of
// exactly equal scores may differ.
//
// A shard that is down makes the result UNAVAILABLE naming it, unless
// allow_partial: then the response is flagged partial and lists it in
// missing_shards. Any other shard error is returned as it is. Probe rows,
// refs and groups come from `request`; gallery_version is the sum of the
// answering shards' versions.
absl::StatusOr<v1::SearchResponse> MergeSearch(
    const ShardSet& shards, const v1::SearchRequest& request,
    const std::vector<SearchCall>& replies);

}  // namespace candor::router

#endif  // CANDOR_SERVER_ROUTER_MERGE_H_
