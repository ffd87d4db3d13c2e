// Search and SearchStream: one search path (StartSearch) for both. Probes
// are validated and normalized here (only checked for a gallery whose index
// normalizes on the device), the threshold and its cost decided by
// the telemetry hub, the search run by the SearchRunner (direct or batched),
// and the reactor finished from the runner's completion callback.
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "kernels/normalize.h"
#include "server/api/candor_service.h"
#include "server/api/gallery_limits.h"
#include "server/edge/search_stream.h"
#include "server/edge/unary.h"
#include "server/edge/validation.h"

namespace candor::api {
namespace {

void FillResults(const v1::SearchRequest& request,
                 const std::vector<std::vector<Candidate>>& candidates,
                 v1::SearchResponse* response) {
  response->mutable_results()->Reserve(static_cast<int>(candidates.size()));
  for (size_t i = 0; i < candidates.size(); ++i) {
    v1::ProbeResult* result = response->add_results();
    result->set_probe_index(static_cast<uint32_t>(i));
    if (request.probe_info_size() > 0) {
      result->set_ref(request.probe_info(static_cast<int>(i)).ref());
      result->set_group(request.probe_info(static_cast<int>(i)).group());
    }
    result->mutable_candidates()->Reserve(static_cast<int>(candidates[i].size()));
    for (const Candidate& c : candidates[i]) {
      v1::Candidate* out = result->add_candidates();
      out->set_entry_id(c.entry_id);
      out->set_subject_id(c.subject_id);
      out->set_group(c.group);
      out->set_score(c.score);
    }
  }
}

}  // namespace

void CandorService::StartSearch(const v1::SearchRequest& request,
                                absl::Time deadline,
                                const security::Caller& caller,
                                const char* rpc,
                                v1::SearchResponse* response,
                                std::function<void(absl::Status)> done) {
  // Shared by this function and the runner's callback; the request and the
  // response outlive both (the caller keeps them until `done`).
  struct Call {
    CallRecord record;
    ThresholdDecision decision;
  };
  auto call = std::make_shared<Call>();
  call->record.rpc = rpc;
  call->record.caller = caller;
  // An oversized purpose is refused below; the record keeps its prefix.
  call->record.purpose =
      request.purpose().substr(0, options_.limits.max_purpose_bytes);
  call->record.gallery = request.gallery();
  call->record.start = absl::Now();
  call->record.probes = static_cast<int>(request.probes().rows());
  call->record.search_request = &request;
  // The response is released only once the audit record is durable.
  auto finish = [this, call, done](absl::Status status) {
    call->record.status = status;
    call->record.end = absl::Now();
    telemetry_->Record(call->record, [done, status](absl::Status audit) {
      done(audit.ok() ? status : audit);
    });
  };

  absl::Status status = ValidatePurpose(request.purpose(),
                                        options_.limits.max_purpose_bytes,
                                        options_.policy.require_purpose);
  if (!status.ok()) return finish(status);
  auto gallery = FindGallery(request.gallery());
  if (!gallery.ok()) return finish(gallery.status());
  status = ValidateTopK(request.top_k(), options_.limits.max_top_k);
  if (!status.ok()) return finish(status);
  if (request.has_threshold()) {
    status = ValidateThreshold(request.threshold());
    if (!status.ok()) return finish(status);
  }
  const int dim = (*gallery)->dimension();
  auto probes = UnpackRows(request.probes(), dim, options_.limits.max_batch,
                           "probes");
  if (!probes.ok()) return finish(probes.status());
  const int rows = static_cast<int>(request.probes().rows());
  status = ValidateProbeInfo(request, rows);
  if (!status.ok()) return finish(status);
  // Before any work: a response that could not be sent is not built.
  status = ValidateSearchResponseSize(request, rows, (*gallery)->size(),
                                      options_.limits.max_message_bytes);
  if (!status.ok()) return finish(status);

  // A GPU flat gallery normalizes on the device, fused with its GEMM input
  // conversion; the rows are only checked here, with the same errors.
  const absl::Time normalize_start = absl::Now();
  status =
      (*gallery)->normalizes_probes()
          ? kernels::CheckRowsNormalizable(probes->data(), rows, dim, "probes")
          : kernels::L2NormalizeRowsInPlace(probes->data(), rows, dim,
                                            "probes");
  if (!status.ok()) return finish(status);
  call->record.normalize_time = absl::Now() - normalize_start;

  auto decision = telemetry_->Decide(**gallery, request);
  if (!decision.ok()) return finish(decision.status());
  call->decision = *std::move(decision);
  call->record.decision = &call->decision;

  std::vector<ProbeQuery> queries(static_cast<size_t>(rows));
  for (ProbeQuery& q : queries) {
    q.threshold = call->decision.threshold;
    q.top_k = static_cast<int>(request.top_k());
    q.nprobe = static_cast<int>(request.nprobe());
  }
  runner_->Run(
      *gallery, *std::move(probes), std::move(queries), deadline,
      [call, finish, &request, response,
       max_message_bytes = options_.limits.max_message_bytes,
       backend = (*gallery)->backend()](
          absl::StatusOr<SearchOutcome> outcome) {
        if (!outcome.ok()) return finish(outcome.status());
        if (absl::Status size = ValidateSearchResults(
                request, outcome->candidates, max_message_bytes);
            !size.ok()) {
          return finish(size);
        }
        call->record.queue_time = outcome->queue_time;
        call->record.search_time = outcome->search_time;
        const absl::Time telemetry_start = absl::Now();
        FillResults(request, outcome->candidates, response);
        response->set_gallery_version(outcome->version);
        response->set_backend(backend);
        if (!request.omit_report()) {
          *response->mutable_report() = std::move(call->decision.report);
        }
        call->record.gallery_version = outcome->version;
        call->record.search_response = response;
        call->record.telemetry_time = absl::Now() - telemetry_start;
        finish(absl::OkStatus());
      });
}

grpc::ServerUnaryReactor* CandorService::Search(
    grpc::CallbackServerContext* ctx, const v1::SearchRequest* req,
    v1::SearchResponse* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto done = [reactor](absl::Status status) {
    reactor->Finish(ToGrpcStatus(status));
  };
  security::Caller caller;
  absl::Status admitted = gate_->Admit(*ctx, "Search", &caller);
  if (!admitted.ok()) {
    RecordRefusal("Search", req->gallery(), caller, admitted, done);
    return reactor;
  }
  StartSearch(*req, DeadlineOf(*ctx), caller, "Search", resp, done);
  return reactor;
}

grpc::ServerBidiReactor<v1::SearchRequest, v1::SearchResponse>*
CandorService::SearchStream(grpc::CallbackServerContext* ctx) {
  security::Caller caller;
  absl::Status admitted = gate_->Admit(*ctx, "SearchStream", &caller);
  if (!admitted.ok()) {
    auto* reactor = NewRefusedSearchStream();
    RecordRefusal("SearchStream", "", caller, admitted,
                  [reactor](absl::Status status) {
                    reactor->Finish(ToGrpcStatus(status));
                  });
    return reactor;
  }
  return NewSearchStreamReactor(
      [this, deadline = DeadlineOf(*ctx), caller](
          const v1::SearchRequest& request, v1::SearchResponse* response,
          std::function<void(absl::Status)> done) {
        StartSearch(request, deadline, caller, "SearchStream", response,
                    std::move(done));
      });
}

void CandorService::RecordRefusal(const char* method, const std::string& gallery,
                                  const security::Caller& caller,
                                  const absl::Status& refusal,
                                  std::function<void(absl::Status)> done) {
  CallRecord record;
  record.rpc = method;
  record.caller = caller;
  record.gallery = gallery;
  record.start = record.end = absl::Now();
  record.status = refusal;
  telemetry_->Record(record, [done = std::move(done), refusal](
                                 absl::Status audit) {
    done(audit.ok() ? refusal : audit);
  });
}

absl::Status CandorService::DoCalibrate(const v1::CalibrateRequest& req,
                                        const CallLimits& limits,
                                        v1::CalibrationReport* resp,
                                        CallRecord* record) {
  auto gallery = FindGallery(req.gallery());
  if (!gallery.ok()) return gallery.status();
  // Caps checked before any search: a calibration's groups are reported by
  // every later search.
  if (req.has_labeled()) {
    absl::Status status = ValidateCalibrationLabels(
        req.labeled(), options_.limits.max_calibration_groups);
    if (!status.ok()) return status;
  } else if (req.has_self_audit() &&
             req.top_k() <= static_cast<uint32_t>(options_.limits.max_top_k)) {
    // top_k 0: the default calibration depth, 10.
    absl::Status status = ValidateSelfAudit(
        (*gallery)->Entries(),
        req.top_k() == 0 ? 10 : static_cast<int>(req.top_k()), options_.limits);
    if (!status.ok()) return status;
  }
  record->details["source"] =
      req.has_labeled() ? "labeled" : req.has_self_audit() ? "self_audit" : "";
  auto report = telemetry_->Calibrate(*gallery, runner_, req, limits);
  if (!report.ok()) return report.status();
  *resp = *std::move(report);
  record->gallery_version =
      resp->calibration().gallery_version_at_calibration();
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* CandorService::Calibrate(
    grpc::CallbackServerContext* ctx, const v1::CalibrateRequest* req,
    v1::CalibrationReport* resp) {
  return ServeBlocking(ctx, "Calibrate", req->gallery(), maintenance_.get(),
                       [this, ctx, req, resp](CallRecord* record) {
                         // Calibration holds a maintenance thread for as long
                         // as its searches take: it looks at the caller's
                         // deadline and cancellation between chunks.
                         CallLimits limits;
                         limits.deadline = DeadlineOf(*ctx);
                         limits.cancelled = [ctx] {
                           return ctx->IsCancelled();
                         };
                         return DoCalibrate(*req, limits, resp, record);
                       });
}

grpc::ServerUnaryReactor* CandorService::GetCalibration(
    grpc::CallbackServerContext* ctx, const v1::GetCalibrationRequest* req,
    v1::CalibrationReport* resp) {
  return Serve(ctx, "GetCalibration", req->gallery(), [&](CallRecord*) {
    auto gallery = FindGallery(req->gallery());
    if (!gallery.ok()) return gallery.status();
    auto report = telemetry_->GetCalibration(**gallery, *req);
    if (!report.ok()) return report.status();
    *resp = *std::move(report);
    return absl::OkStatus();
  });
}

}  // namespace candor::api
