#include "server/router/merge.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/router/placement.h"

namespace candor::router {
namespace {

bool Better(const v1::Candidate& a, const v1::Candidate& b) {
  if (a.score() != b.score()) return a.score() > b.score();
  return a.entry_id() < b.entry_id();
}

}  // namespace

absl::StatusOr<v1::SearchResponse> MergeSearch(
    const ShardSet& shards, const v1::SearchRequest& request,
    const std::vector<SearchCall>& replies) {
  const int rows = static_cast<int>(request.probes().rows());
  v1::SearchResponse out;
  std::vector<const SearchCall*> answered;
  for (const SearchCall& reply : replies) {
    if (reply.status.ok()) {
      answered.push_back(&reply);
      continue;
    }
    if (!IsShardDown(reply.status)) {
      return ShardError(shards.shard(reply.shard), reply.status);
    }
  }
  for (const SearchCall& reply : replies) {
    if (reply.status.ok()) continue;
    if (!request.allow_partial()) {
      return ShardError(shards.shard(reply.shard), reply.status);
    }
    out.set_partial(true);
    out.add_missing_shards(shards.shard(reply.shard).name);
  }
  if (answered.empty()) {
    return absl::UnavailableError(
        "no shard answered (allow_partial needs at least one)");
  }
  uint64_t version = 0;
  for (const SearchCall* reply : answered) {
    if (reply->response.results_size() != rows) {
      return absl::InternalError(
          absl::StrCat("shard ", reply->shard, " answered ",
                       reply->response.results_size(), " probes of ", rows));
    }
    version += reply->response.gallery_version();
    if (out.backend().empty()) out.set_backend(reply->response.backend());
  }
  out.set_gallery_version(version);

  const size_t top_k = request.top_k();
  std::vector<v1::Candidate> merged;
  out.mutable_results()->Reserve(rows);
  for (int i = 0; i < rows; ++i) {
    merged.clear();
    for (const SearchCall* reply : answered) {
      for (const v1::Candidate& c : reply->response.results(i).candidates()) {
        auto id = GlobalEntryId(reply->shard, c.entry_id());
        if (!id.ok()) return id.status();
        merged.push_back(c);
        merged.back().set_entry_id(*id);
      }
    }
    const size_t keep = std::min(top_k, merged.size());
    std::partial_sort(merged.begin(), merged.begin() + keep, merged.end(),
                      Better);
    v1::ProbeResult* result = out.add_results();
    result->set_probe_index(static_cast<uint32_t>(i));
    if (request.probe_info_size() > 0) {
      result->set_ref(request.probe_info(i).ref());
      result->set_group(request.probe_info(i).group());
    }
    result->mutable_candidates()->Reserve(static_cast<int>(keep));
    for (size_t r = 0; r < keep; ++r) {
      *result->add_candidates() = std::move(merged[r]);
    }
  }
  return out;
}

}  // namespace candor::router
