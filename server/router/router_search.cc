// Search and SearchStream through the router: the threshold and its report
// are decided here (router_telemetry.h), over the whole gallery; every
// shard searches at that threshold with the same top_k and nprobe, and the
// answers are merged exactly (merge.h).
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "server/edge/search_stream.h"
#include "server/edge/unary.h"
#include "server/edge/validation.h"
#include "server/router/matrix_rows.h"
#include "server/router/merge.h"
#include "server/router/router_service.h"
#include "server/router/shard_rpcs.h"

namespace candor::router {
void RouterService::Scatter(
    const v1::SearchRequest& request, absl::Time deadline,
    std::function<void(absl::StatusOr<v1::SearchResponse>)> done) {
  // Shards answer candidates only: their threshold reports would describe
  // one shard's part of the gallery.
  v1::SearchRequest shard_request = request;
  shard_request.set_omit_report(true);
  shard_request.set_allow_partial(false);
  auto calls = ToEveryShard<v1::SearchRequest, v1::SearchResponse>(
      *shards_, shard_request);
  // The merge reads rows, top_k, probe info and allow_partial from `request`,
  // which the caller keeps alive until `done`.
  FanOut<v1::SearchRequest, v1::SearchResponse>(
      *shards_, std::move(calls), ShardDeadline(deadline), rpc::Search(),
      [this, &request,
       done = std::move(done)](std::vector<SearchCall> replies) {
        done(MergeSearch(*shards_, request, replies));
      });
}

absl::StatusOr<v1::SearchResponse> RouterService::SearchAndWait(
    const v1::SearchRequest& request, absl::Time deadline) {
  absl::Notification finished;
  absl::StatusOr<v1::SearchResponse> out;
  Scatter(request, deadline, [&](absl::StatusOr<v1::SearchResponse> merged) {
    out = std::move(merged);
    finished.Notify();
  });
  finished.WaitForNotification();
  return out;
}

void RouterService::StartSearch(std::shared_ptr<api::AdmittedSearch> search) {
  const v1::SearchRequest& request = search->request;
  ScopedForwarding forwarding(search->record.caller, search->record.rpc);
  if (request.gallery().empty()) {
    return FinishSearch(search,
                        absl::InvalidArgumentError("gallery: name is empty"));
  }
  absl::Status status =
      api::ValidateTopK(request.top_k(), options_.server.limits.max_top_k);
  if (!status.ok()) return FinishSearch(search, status);
  if (request.has_threshold()) {
    status = api::ValidateThreshold(request.threshold());
    if (!status.ok()) return FinishSearch(search, status);
  }
  auto rows =
      CheckMatrix(request.probes(), options_.server.limits.max_batch, "probes");
  if (!rows.ok()) return FinishSearch(search, rows.status());
  status = api::ValidateProbeInfo(request, *rows);
  if (!status.ok()) return FinishSearch(search, status);

  auto view = PolicyView(request.gallery(), search->deadline);
  if (!view.ok()) return FinishSearch(search, view.status());
  auto decision = telemetry_->policy().Decide(*view, request);
  if (!decision.ok()) return FinishSearch(search, decision.status());
  search->decision = *std::move(decision);
  search->record.decision = &search->decision;

  // Owned here so the merge can read it after this function returns.
  auto decided = std::make_shared<v1::SearchRequest>(request);
  decided->set_threshold(search->decision.threshold);
  const absl::Time search_start = absl::Now();
  Scatter(*decided, search->deadline,
          [this, search, decided,
           search_start](absl::StatusOr<v1::SearchResponse> merged) {
            search->record.search_time = absl::Now() - search_start;
            if (!merged.ok()) return FinishSearch(search, merged.status());
            *search->response = *std::move(merged);
            if (!decided->omit_report()) {
              *search->response->mutable_report() = search->decision.report;
            }
            FinishSearch(search, absl::OkStatus());
          });
}

}  // namespace candor::router
