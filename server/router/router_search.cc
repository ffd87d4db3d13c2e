// Search and SearchStream through the router: the threshold and its report
// are decided here (router_telemetry.h), over the whole gallery; every
// shard searches at that threshold with the same top_k and nprobe, and the
// answers are merged exactly (merge.h).
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

void RouterService::StartSearch(const v1::SearchRequest& request,
                                absl::Time deadline,
                                const security::Caller& caller,
                                const char* rpc,
                                v1::SearchResponse* response,
                                std::function<void(absl::Status)> done) {
  ScopedForwarding forwarding(caller, rpc);
  // Shared by this function and the merge's callback; the request and the
  // response outlive both (the caller keeps them until `done`).
  struct Call {
    telemetry::CallRecord record;
    telemetry::ThresholdDecision decision;
  };
  auto call = std::make_shared<Call>();
  StartRecord(rpc, request.gallery(), &call->record);
  call->record.caller = caller;
  // An oversized purpose is refused by the shards; the record keeps its
  // prefix.
  call->record.purpose =
      request.purpose().substr(0, options_.server.limits.max_purpose_bytes);
  call->record.probes = static_cast<int>(request.probes().rows());
  call->record.search_request = &request;
  // The response is released only once the audit record is durable.
  auto finish = [this, call, response, done](absl::Status status) {
    call->record.status = status;
    call->record.end = absl::Now();
    if (status.ok()) call->record.search_response = response;
    telemetry_->audit().Record(call->record, [done, status](absl::Status audit) {
      done(audit.ok() ? status : audit);
    });
  };
  if (request.gallery().empty()) {
    return finish(absl::InvalidArgumentError("gallery: name is empty"));
  }
  absl::Status status =
      api::ValidateTopK(request.top_k(), options_.server.limits.max_top_k);
  if (!status.ok()) return finish(status);
  if (request.has_threshold()) {
    status = api::ValidateThreshold(request.threshold());
    if (!status.ok()) return finish(status);
  }
  auto rows =
      CheckMatrix(request.probes(), options_.server.limits.max_batch, "probes");
  if (!rows.ok()) return finish(rows.status());
  status = api::ValidateProbeInfo(request, *rows);
  if (!status.ok()) return finish(status);

  auto view = PolicyView(request.gallery(), deadline);
  if (!view.ok()) return finish(view.status());
  auto decision = telemetry_->policy().Decide(*view, request);
  if (!decision.ok()) return finish(decision.status());
  call->decision = *std::move(decision);
  call->record.decision = &call->decision;

  // Owned here so the merge can read it after this function returns.
  auto decided = std::make_shared<v1::SearchRequest>(request);
  decided->set_threshold(call->decision.threshold);
  const absl::Time search_start = absl::Now();
  Scatter(*decided, deadline,
          [call, decided, response, search_start,
           finish](absl::StatusOr<v1::SearchResponse> merged) {
            call->record.search_time = absl::Now() - search_start;
            if (!merged.ok()) return finish(merged.status());
            *response = *std::move(merged);
            if (!decided->omit_report()) {
              *response->mutable_report() = call->decision.report;
            }
            finish(absl::OkStatus());
          });
}

}  // namespace candor::router
