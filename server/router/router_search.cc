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
  if (request.gallery().empty()) {
    return done(absl::InvalidArgumentError("gallery: name is empty"));
  }
  absl::Status status =
      api::ValidateTopK(request.top_k(), options_.server.limits.max_top_k);
  if (!status.ok()) return done(status);
  if (request.has_threshold()) {
    status = api::ValidateThreshold(request.threshold());
    if (!status.ok()) return done(status);
  }
  auto rows =
      CheckMatrix(request.probes(), options_.server.limits.max_batch, "probes");
  if (!rows.ok()) return done(rows.status());
  status = api::ValidateProbeInfo(request, *rows);
  if (!status.ok()) return done(status);

  // The size only matters to a calibrated gallery's report (staleness).
  uint64_t size_now = 0;
  if (telemetry_->HasCalibration(request.gallery())) {
    auto size = GallerySize(request.gallery(), deadline);
    if (!size.ok()) return done(size.status());
    size_now = *size;
  }
  auto decision = telemetry_->Decide(request.gallery(), size_now, request);
  if (!decision.ok()) return done(decision.status());

  // Owned here so the merge can read it after this function returns.
  auto decided = std::make_shared<v1::SearchRequest>(request);
  decided->set_threshold(decision->threshold);
  auto report =
      std::make_shared<v1::ThresholdReport>(std::move(decision->report));
  Scatter(*decided, deadline,
          [decided, report, response,
           done = std::move(done)](absl::StatusOr<v1::SearchResponse> merged) {
            if (!merged.ok()) return done(merged.status());
            *response = *std::move(merged);
            if (!decided->omit_report()) *response->mutable_report() = *report;
            done(absl::OkStatus());
          });
}

grpc::ServerUnaryReactor* RouterService::Search(
    grpc::CallbackServerContext* ctx, const v1::SearchRequest* req,
    v1::SearchResponse* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  security::Caller caller;
  if (absl::Status admitted = Admit(*ctx, "Search", &caller); !admitted.ok()) {
    Count("Search", admitted);
    reactor->Finish(api::ToGrpcStatus(admitted));
    return reactor;
  }
  StartSearch(*req, api::DeadlineOf(*ctx), caller, "Search", resp,
              [this, reactor, req](absl::Status status) {
                Count("Search", status);
                if (status.ok() && metrics_ != nullptr) {
                  metrics_->CountProbes(req->gallery(), req->probes().rows());
                }
                reactor->Finish(api::ToGrpcStatus(status));
              });
  return reactor;
}

grpc::ServerBidiReactor<v1::SearchRequest, v1::SearchResponse>*
RouterService::SearchStream(grpc::CallbackServerContext* ctx) {
  security::Caller caller;
  if (absl::Status admitted = Admit(*ctx, "SearchStream", &caller);
      !admitted.ok()) {
    Count("SearchStream", admitted);
    auto* reactor = api::NewRefusedSearchStream();
    reactor->Finish(api::ToGrpcStatus(admitted));
    return reactor;
  }
  return api::NewSearchStreamReactor(
      [this, deadline = api::DeadlineOf(*ctx), caller](
          const v1::SearchRequest& request, v1::SearchResponse* response,
          std::function<void(absl::Status)> done) {
        StartSearch(request, deadline, caller, "SearchStream", response,
                    std::move(done));
      });
}

}  // namespace candor::router
