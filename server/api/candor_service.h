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
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "candor/v1/candor.grpc.pb.h"
#include "server/api/blocking_executor.h"
#include "server/api/options.h"
#include "server/api/search_runner.h"
#include "server/api/telemetry_hub.h"
#include "server/edge/edge_service.h"
#include "server/edge/status_util.h"
#include "server/gallery/gallery_store.h"
#include "server/security/call_gate.h"

namespace candor::api {

class CandorService final : public EdgeService<CandorService> {
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

  // sample_handler.cc
  grpc::ServerUnaryReactor* SampleEntries(
      grpc::CallbackServerContext* ctx, const v1::SampleEntriesRequest* req,
      v1::SampleEntriesResponse* resp) override;

  // The search path, shared by Search and SearchStream: validates, resolves
  // the threshold and policy, runs the search and fills the response; it
  // finishes `search` exactly once, possibly on another thread.
  void StartSearch(std::shared_ptr<AdmittedSearch> search);

 private:
  friend class EdgeService<CandorService>;

  // Every unary RPC (edge_service.h): reads of in-memory state are served
  // on this thread; work that blocks on `ExecutorFor<Req>()`.
  template <typename Req, typename Resp>
  grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* ctx,
                                 const char* method, const std::string& gallery,
                                 const Req& req, Resp* resp) {
    BlockingExecutor* executor = ExecutorFor<Req>();
    if (executor == nullptr) {
      return Serve(ctx, method, gallery, [&](CallRecord* record) {
        return Work(*ctx, req, resp, record);
      });
    }
    return ServeBlocking(ctx, method, gallery, executor,
                         [this, ctx, req = &req, resp](CallRecord* record) {
                           return Work(*ctx, *req, resp, record);
                         });
  }
  // Enroll, Remove, CreateGallery, SetPolicy: short waits on an fsync.
  // Calibrate, CompactGallery, DeleteGallery, TrainIndex: long work.
  template <typename Req>
  BlockingExecutor* ExecutorFor() const {
    if constexpr (std::is_same_v<Req, v1::EnrollRequest> ||
                  std::is_same_v<Req, v1::RemoveRequest> ||
                  std::is_same_v<Req, v1::CreateGalleryRequest> ||
                  std::is_same_v<Req, v1::SetPolicyRequest>) {
      return writes_.get();
    } else if constexpr (std::is_same_v<Req, v1::CalibrateRequest> ||
                         std::is_same_v<Req, v1::CompactGalleryRequest> ||
                         std::is_same_v<Req, v1::DeleteGalleryRequest> ||
                         std::is_same_v<Req, v1::TrainIndexRequest>) {
      return maintenance_.get();
    } else {
      return nullptr;
    }
  }
  // The work of each unary RPC; it may add what the call touched to
  // `record`.
  using Ctx = grpc::CallbackServerContext;
  absl::Status Work(const Ctx&, const v1::CreateGalleryRequest& req,
                    v1::Gallery* resp, CallRecord* record);
  absl::Status Work(const Ctx&, const v1::GetGalleryRequest& req,
                    v1::Gallery* resp, CallRecord* record);
  absl::Status Work(const Ctx&, const v1::ListGalleriesRequest& req,
                    v1::ListGalleriesResponse* resp, CallRecord* record);
  absl::Status Work(const Ctx&, const v1::DeleteGalleryRequest& req,
                    v1::DeleteGalleryResponse* resp, CallRecord* record);
  absl::Status Work(const Ctx&, const v1::CompactGalleryRequest& req,
                    v1::CompactGalleryResponse* resp, CallRecord* record);
  absl::Status Work(const Ctx&, const v1::EnrollRequest& req,
                    v1::EnrollResponse* resp, CallRecord* record);
  absl::Status Work(const Ctx&, const v1::RemoveRequest& req,
                    v1::RemoveResponse* resp, CallRecord* record);
  absl::Status Work(const Ctx& ctx, const v1::CalibrateRequest& req,
                    v1::CalibrationReport* resp, CallRecord* record);
  absl::Status Work(const Ctx&, const v1::GetCalibrationRequest& req,
                    v1::CalibrationReport* resp, CallRecord* record);
  absl::Status Work(const Ctx&, const v1::SetPolicyRequest& req,
                    v1::Gallery* resp, CallRecord* record);
  absl::Status Work(const Ctx&, const v1::TrainIndexRequest& req,
                    v1::Gallery* resp, CallRecord* record);
  absl::Status Work(const Ctx&, const v1::GetStatsRequest& req,
                    v1::Stats* resp, CallRecord* record);

  absl::Status Admit(const grpc::CallbackServerContext& ctx,
                     const char* method, security::Caller* caller) const {
    return gate_->Admit(ctx, method, caller);
  }
  void Audit(const CallRecord& record, std::function<void(absl::Status)> done) {
    telemetry_->Record(record, std::move(done));
  }

  // Serve for work that blocks: the gate on this thread, then `work` on
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
    absl::Status status = Admit(*ctx, method, &record->caller);
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
