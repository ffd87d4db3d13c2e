// The gRPC front end: admits the caller (security::CallGate), validates,
// maps proto <-> core, and hands work to the gallery store and the search
// runner. Handlers use the callback API; the work of each RPC lives in a Do*
// method returning absl::Status, mapped to grpc::Status once
// (status_util.h). Every call, refused ones included, is answered only once
// its audit record is durable.
//
// Work that blocks (a WAL or manifest fsync, compaction, erasing a gallery,
// training, a calibration's searches) never runs on gRPC's callback
// threads, which every call shares, health checks included: it runs on one
// of two bounded executors of the service's own (blocking_executor.h), short
// writes apart from long maintenance, and the reactor is finished from
// there. Reads of in-memory state answer on the callback thread.
#ifndef CANDOR_SERVER_API_CANDOR_SERVICE_H_
#define CANDOR_SERVER_API_CANDOR_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "candor/v1/candor.grpc.pb.h"
#include "server/api/blocking_executor.h"
#include "server/api/options.h"
#include "server/api/search_runner.h"
#include "server/api/telemetry_hub.h"
#include "server/edge/status_util.h"
#include "server/gallery/gallery_store.h"
#include "server/security/call_gate.h"

namespace candor::api {

class CandorService final : public v1::Candor::CallbackService {
 public:
  // None of the pointers is owned; all outlive the service.
  CandorService(const ServerOptions& options, gallery::GalleryStore* store,
                SearchRunner* runner, TelemetryHub* telemetry,
                const security::CallGate* gate);
  // Calls Shutdown().
  ~CandorService() override;

  // Refuses new blocking work (UNAVAILABLE), finishes the calls already
  // queued for a thread and joins the threads. Call after the gRPC server
  // has stopped taking calls and before the search runner stops (queued
  // calibrations still search). Idempotent.
  void Shutdown();

  grpc::ServerUnaryReactor* CreateGallery(grpc::CallbackServerContext* ctx,
                                          const v1::CreateGalleryRequest* req,
                                          v1::Gallery* resp) override;
  grpc::ServerUnaryReactor* GetGallery(grpc::CallbackServerContext* ctx,
                                       const v1::GetGalleryRequest* req,
                                       v1::Gallery* resp) override;
  grpc::ServerUnaryReactor* ListGalleries(
      grpc::CallbackServerContext* ctx, const v1::ListGalleriesRequest* req,
      v1::ListGalleriesResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteGallery(
      grpc::CallbackServerContext* ctx, const v1::DeleteGalleryRequest* req,
      v1::DeleteGalleryResponse* resp) override;
  grpc::ServerUnaryReactor* CompactGallery(
      grpc::CallbackServerContext* ctx, const v1::CompactGalleryRequest* req,
      v1::CompactGalleryResponse* resp) override;
  grpc::ServerUnaryReactor* Enroll(grpc::CallbackServerContext* ctx,
                                   const v1::EnrollRequest* req,
                                   v1::EnrollResponse* resp) override;
  grpc::ServerUnaryReactor* Remove(grpc::CallbackServerContext* ctx,
                                   const v1::RemoveRequest* req,
                                   v1::RemoveResponse* resp) override;
  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* ctx,
                                   const v1::SearchRequest* req,
                                   v1::SearchResponse* resp) override;
  grpc::ServerBidiReactor<v1::SearchRequest, v1::SearchResponse>* SearchStream(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* Calibrate(grpc::CallbackServerContext* ctx,
                                      const v1::CalibrateRequest* req,
                                      v1::CalibrationReport* resp) override;
  grpc::ServerUnaryReactor* GetCalibration(
      grpc::CallbackServerContext* ctx, const v1::GetCalibrationRequest* req,
      v1::CalibrationReport* resp) override;
  grpc::ServerUnaryReactor* SetPolicy(grpc::CallbackServerContext* ctx,
                                      const v1::SetPolicyRequest* req,
                                      v1::Gallery* resp) override;
  grpc::ServerUnaryReactor* TrainIndex(grpc::CallbackServerContext* ctx,
                                       const v1::TrainIndexRequest* req,
                                       v1::Gallery* resp) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* ctx,
                                     const v1::GetStatsRequest* req,
                                     v1::Stats* resp) override;
  // sample_handler.cc
  grpc::ServerUnaryReactor* SampleEntries(
      grpc::CallbackServerContext* ctx, const v1::SampleEntriesRequest* req,
      v1::SampleEntriesResponse* resp) override;

  // The search path, shared by Search and SearchStream: validates, resolves
  // the threshold and policy, runs the search and fills the response.
  // `done` is called exactly once, possibly on another thread.
  // `rpc` ("Search" or "SearchStream") names the call in metrics and the
  // audit log.
  void StartSearch(const v1::SearchRequest& request, absl::Time deadline,
                   const security::Caller& caller, const char* rpc,
                   v1::SearchResponse* response,
                   std::function<void(absl::Status)> done);

 private:
  // Every unary method: the gate, then `work(&record)` on this thread
  // (skipped when the gate refuses; it may add what the call touched to
  // the record), then metrics and the audit record. The call is answered
  // once its record is durable, or UNAVAILABLE when it cannot be written.
  // For reads of in-memory state only.
  template <typename Work>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* ctx,
                                  const char* method,
                                  const std::string& gallery, Work&& work) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    CallRecord record;
    StartRecord(method, gallery, &record);
    absl::Status status = gate_->Admit(*ctx, method, &record.caller);
    if (status.ok()) status = work(&record);
    Complete(reactor, record, std::move(status));
    return reactor;
  }

  // Serve for work that blocks: the gate on this thread, then `work` on
  // `executor`; this thread returns at once. `work` is called once, on an
  // executor thread; it must capture what it uses by value (the request,
  // response and context pointers stay valid until the reactor finishes).
  // A call is refused RESOURCE_EXHAUSTED when the executor's queue is full,
  // and answered DEADLINE_EXCEEDED without running when its deadline
  // passed while it waited for a thread.
  template <typename Work>
  grpc::ServerUnaryReactor* ServeBlocking(grpc::CallbackServerContext* ctx,
                                          const char* method,
                                          const std::string& gallery,
                                          BlockingExecutor* executor,
                                          Work work) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    // Shared with the task: a refused task is destroyed uncalled.
    auto record = std::make_shared<CallRecord>();
    StartRecord(method, gallery, record.get());
    absl::Status status = gate_->Admit(*ctx, method, &record->caller);
    if (status.ok()) {
      status = executor->Submit(
          [this, reactor, ctx, record, work = std::move(work)]() mutable {
            absl::Status result = StillWanted(*ctx);
            if (result.ok()) result = work(record.get());
            Complete(reactor, *record, std::move(result));
          });
      if (status.ok()) return reactor;
    }
    Complete(reactor, *record, std::move(status));
    return reactor;
  }

  void StartRecord(const char* method, const std::string& gallery,
                   CallRecord* record) const;
  // Metrics and the audit record of a finished unary call, then Finish.
  void Complete(grpc::ServerUnaryReactor* reactor, CallRecord& record,
                absl::Status status);
  // OK, or DEADLINE_EXCEEDED / CANCELLED for a call whose caller is gone.
  static absl::Status StillWanted(const grpc::CallbackServerContext& ctx);

  absl::Status DoCreateGallery(const v1::CreateGalleryRequest& req,
                               v1::Gallery* resp, CallRecord* record);
  absl::Status DoGetGallery(const std::string& name, v1::Gallery* resp);
  absl::Status DoDeleteGallery(const v1::DeleteGalleryRequest& req,
                               CallRecord* record);
  absl::Status DoCompactGallery(const v1::CompactGalleryRequest& req,
                                v1::CompactGalleryResponse* resp);
  absl::Status DoEnroll(const v1::EnrollRequest& req, v1::EnrollResponse* resp);
  absl::Status DoRemove(const v1::RemoveRequest& req, v1::RemoveResponse* resp);
  absl::Status DoSetPolicy(const v1::SetPolicyRequest& req, v1::Gallery* resp,
                           CallRecord* record);
  // Records a call the gate refused, then answers it through `done`.
  void RecordRefusal(const char* method, const std::string& gallery,
                     const security::Caller& caller, const absl::Status& refusal,
                     std::function<void(absl::Status)> done);
  // Stops with DEADLINE_EXCEEDED / CANCELLED once the caller is gone.
  absl::Status DoCalibrate(const v1::CalibrateRequest& req,
                           const CallLimits& limits,
                           v1::CalibrationReport* resp, CallRecord* record);
  // InvalidArgument for a malformed policy (NaN, max_fpir outside [0, 1],
  // max_disparity < 1); FailedPrecondition when it would loosen the
  // server's policy flags.
  absl::Status CheckGalleryPolicy(const v1::Policy& policy) const;
  absl::Status DoTrainIndex(const v1::TrainIndexRequest& req,
                            v1::Gallery* resp);
  absl::Status DoGetStats(v1::Stats* resp);

  // Live entries of the gallery, -1 when it is unknown (for metrics).
  int64_t GallerySize(const std::string& name) const;
  // NotFound "gallery 'x' not found" (InvalidArgument for an empty name).
  absl::StatusOr<std::shared_ptr<gallery::Gallery>> FindGallery(
      const std::string& name) const;

  const ServerOptions options_;
  gallery::GalleryStore* const store_;
  SearchRunner* const runner_;
  TelemetryHub* const telemetry_;
  const security::CallGate* const gate_;
  // Enroll, Remove, CreateGallery, SetPolicy: short waits on an fsync.
  std::unique_ptr<BlockingExecutor> writes_;
  // Calibrate, CompactGallery, DeleteGallery, TrainIndex: long work, kept
  // apart so that it cannot hold the writes up.
  std::unique_ptr<BlockingExecutor> maintenance_;
};

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_CANDOR_SERVICE_H_
