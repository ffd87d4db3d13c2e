// candor.v1.Candor as both roles serve it: the list of RPCs, the name each
// is known by in metrics and the audit log, the gallery it touches, and the
// one way a unary call is admitted, recorded and answered. A role (the
// server's service, the router) derives from EdgeService<Role> and supplies
// the work:
//
//   template <typename Req, typename Resp>
//   grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* ctx,
//                                  const char* method,
//                                  const std::string& gallery,
//                                  const Req& req, Resp* resp);
//       every unary RPC but SampleEntries (served by the server alone);
//       usually Serve() around the role's own work for `req`.
//   absl::Status Admit(const grpc::CallbackServerContext& ctx,
//                      const char* method, security::Caller* caller) const;
//       the gate's decision.
//   void Audit(const telemetry::CallRecord& record,
//              std::function<void(absl::Status)> done);
//       metrics and the durable audit record; `done` gets the audit status.
//   void StartSearch(std::shared_ptr<AdmittedSearch> search);
//       the search path of Search and SearchStream, after admission; it
//       ends with FinishSearch(search, status), exactly once.
//
// Every call, refused ones included, is answered only once its audit record
// is durable (UNAVAILABLE when it cannot be written).
#ifndef CANDOR_SERVER_EDGE_EDGE_SERVICE_H_
#define CANDOR_SERVER_EDGE_EDGE_SERVICE_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "candor/v1/candor.grpc.pb.h"
#include "server/edge/search_stream.h"
#include "server/edge/status_util.h"
#include "server/edge/unary.h"
#include "server/security/call_gate.h"
#include "server/telemetry/call_record.h"

namespace candor::api {

// One Search or SearchStream request the gate admitted, on its way through
// the role's search path; shared by the path and its completions. The
// request and the response outlive it (the reactor keeps them until
// `done`).
struct AdmittedSearch {
  AdmittedSearch(const v1::SearchRequest& request,
                 v1::SearchResponse* response, absl::Time deadline,
                 std::function<void(absl::Status)> done)
      : request(request),
        response(response),
        deadline(deadline),
        done(std::move(done)) {}

  const v1::SearchRequest& request;
  v1::SearchResponse* const response;
  // The caller's deadline (InfiniteFuture when it set none).
  const absl::Time deadline;
  // The call's audit record: rpc, caller, gallery, purpose, probes and
  // start are set on admission, timings and the decision by the role, the
  // status and the response by FinishSearch.
  telemetry::CallRecord record;
  // The threshold the role decided; record.decision points here once set.
  telemetry::ThresholdDecision decision;
  // Gets the call's status once its audit record is durable.
  std::function<void(absl::Status)> done;
};

template <typename Role>
class EdgeService : public v1::Candor::CallbackService {
 public:
  grpc::ServerUnaryReactor* CreateGallery(grpc::CallbackServerContext* ctx,
                                          const v1::CreateGalleryRequest* req,
                                          v1::Gallery* resp) override {
    return role().Call(ctx, "CreateGallery", req->name(), *req, resp);
  }
  grpc::ServerUnaryReactor* GetGallery(grpc::CallbackServerContext* ctx,
                                       const v1::GetGalleryRequest* req,
                                       v1::Gallery* resp) override {
    return role().Call(ctx, "GetGallery", req->name(), *req, resp);
  }
  grpc::ServerUnaryReactor* ListGalleries(
      grpc::CallbackServerContext* ctx, const v1::ListGalleriesRequest* req,
      v1::ListGalleriesResponse* resp) override {
    return role().Call(ctx, "ListGalleries", std::string(), *req, resp);
  }
  grpc::ServerUnaryReactor* DeleteGallery(
      grpc::CallbackServerContext* ctx, const v1::DeleteGalleryRequest* req,
      v1::DeleteGalleryResponse* resp) override {
    return role().Call(ctx, "DeleteGallery", req->name(), *req, resp);
  }
  grpc::ServerUnaryReactor* CompactGallery(
      grpc::CallbackServerContext* ctx, const v1::CompactGalleryRequest* req,
      v1::CompactGalleryResponse* resp) override {
    return role().Call(ctx, "CompactGallery", req->name(), *req, resp);
  }
  grpc::ServerUnaryReactor* Enroll(grpc::CallbackServerContext* ctx,
                                   const v1::EnrollRequest* req,
                                   v1::EnrollResponse* resp) override {
    return role().Call(ctx, "Enroll", req->gallery(), *req, resp);
  }
  grpc::ServerUnaryReactor* Remove(grpc::CallbackServerContext* ctx,
                                   const v1::RemoveRequest* req,
                                   v1::RemoveResponse* resp) override {
    return role().Call(ctx, "Remove", req->gallery(), *req, resp);
  }
  grpc::ServerUnaryReactor* Calibrate(grpc::CallbackServerContext* ctx,
                                      const v1::CalibrateRequest* req,
                                      v1::CalibrationReport* resp) override {
    return role().Call(ctx, "Calibrate", req->gallery(), *req, resp);
  }
  grpc::ServerUnaryReactor* GetCalibration(
      grpc::CallbackServerContext* ctx, const v1::GetCalibrationRequest* req,
      v1::CalibrationReport* resp) override {
    return role().Call(ctx, "GetCalibration", req->gallery(), *req, resp);
  }
  grpc::ServerUnaryReactor* SetPolicy(grpc::CallbackServerContext* ctx,
                                      const v1::SetPolicyRequest* req,
                                      v1::Gallery* resp) override {
    return role().Call(ctx, "SetPolicy", req->gallery(), *req, resp);
  }
  grpc::ServerUnaryReactor* TrainIndex(grpc::CallbackServerContext* ctx,
                                       const v1::TrainIndexRequest* req,
                                       v1::Gallery* resp) override {
    return role().Call(ctx, "TrainIndex", req->gallery(), *req, resp);
  }
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* ctx,
                                     const v1::GetStatsRequest* req,
                                     v1::Stats* resp) override {
    return role().Call(ctx, "GetStats", std::string(), *req, resp);
  }

  // Search and SearchStream: admitted here, then the role's search path.
  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* ctx,
                                   const v1::SearchRequest* req,
                                   v1::SearchResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    auto done = [reactor](absl::Status status) {
      reactor->Finish(ToGrpcStatus(status));
    };
    security::Caller caller;
    absl::Status admitted = role().Admit(*ctx, "Search", &caller);
    if (!admitted.ok()) {
      RecordRefusal("Search", req->gallery(), caller, admitted, done);
      return reactor;
    }
    role().StartSearch(
        AdmitSearch(*req, resp, DeadlineOf(*ctx), caller, "Search", done));
    return reactor;
  }
  grpc::ServerBidiReactor<v1::SearchRequest, v1::SearchResponse>* SearchStream(
      grpc::CallbackServerContext* ctx) override {
    security::Caller caller;
    absl::Status admitted = role().Admit(*ctx, "SearchStream", &caller);
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
          role().StartSearch(AdmitSearch(request, response, deadline, caller,
                                         "SearchStream", std::move(done)));
        });
  }

 protected:
  // A search's purpose is recorded up to max_purpose_bytes (an oversized
  // one is refused on the role's search path; the record keeps its
  // prefix).
  explicit EdgeService(int max_purpose_bytes)
      : max_purpose_bytes_(max_purpose_bytes) {}

  // Records the search with `status` (and its response, when answered),
  // then answers it through search->done once the record is durable.
  void FinishSearch(const std::shared_ptr<AdmittedSearch>& search,
                    absl::Status status) {
    search->record.status = status;
    search->record.end = absl::Now();
    if (status.ok()) search->record.search_response = search->response;
    role().Audit(search->record, [done = std::move(search->done),
                                  status](absl::Status audit) {
      done(audit.ok() ? status : audit);
    });
  }

  // The gate, then `work(&record)` on this thread (skipped when the gate
  // refuses; it may add what the call touched to the record), then the
  // record, then the answer.
  template <typename Work>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* ctx,
                                  const char* method,
                                  const std::string& gallery, Work&& work) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    telemetry::CallRecord record;
    StartRecord(method, gallery, &record);
    absl::Status status = role().Admit(*ctx, method, &record.caller);
    if (status.ok()) status = work(&record);
    Complete(reactor, record, std::move(status));
    return reactor;
  }

  static void StartRecord(const char* method, const std::string& gallery,
                          telemetry::CallRecord* record) {
    record->rpc = method;
    record->gallery = gallery;
    record->start = absl::Now();
  }

  // Records the finished unary call, then finishes the reactor.
  void Complete(grpc::ServerUnaryReactor* reactor,
                telemetry::CallRecord& record, absl::Status status) {
    record.status = status;
    record.end = absl::Now();
    role().Audit(record, [reactor, status](absl::Status audit) {
      reactor->Finish(ToGrpcStatus(audit.ok() ? status : audit));
    });
  }

  // Records a call the gate refused, then answers it through `done`.
  void RecordRefusal(const char* method, const std::string& gallery,
                     const security::Caller& caller,
                     const absl::Status& refusal,
                     std::function<void(absl::Status)> done) {
    telemetry::CallRecord record;
    StartRecord(method, gallery, &record);
    record.caller = caller;
    record.end = record.start;
    record.status = refusal;
    role().Audit(record, [done = std::move(done), refusal](
                             absl::Status audit) {
      done(audit.ok() ? refusal : audit);
    });
  }

 private:
  Role& role() { return static_cast<Role&>(*this); }

  std::shared_ptr<AdmittedSearch> AdmitSearch(
      const v1::SearchRequest& request, v1::SearchResponse* response,
      absl::Time deadline, const security::Caller& caller, const char* rpc,
      std::function<void(absl::Status)> done) {
    auto search = std::make_shared<AdmittedSearch>(request, response,
                                                   deadline, std::move(done));
    StartRecord(rpc, request.gallery(), &search->record);
    search->record.caller = caller;
    search->record.purpose = request.purpose().substr(
        0, static_cast<size_t>(max_purpose_bytes_));
    search->record.probes = static_cast<int>(request.probes().rows());
    search->record.search_request = &request;
    return search;
  }

  const int max_purpose_bytes_;
};

}  // namespace candor::api

#endif  // CANDOR_SERVER_EDGE_EDGE_SERVICE_H_
