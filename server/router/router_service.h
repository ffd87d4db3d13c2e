// candor.v1.Candor served over shards: the router holds no vectors. Writes
// go to the shard a subject hashes to, searches to every shard (merged
// exactly), gallery administration to every shard (answers aggregated), and
// calibration and the threshold report are the router's own, over the
// whole gallery. Handlers use the callback API; the work of each RPC lives
// in a Do* method returning absl::Status, mapped to grpc::Status once.
#ifndef CANDOR_SERVER_ROUTER_ROUTER_SERVICE_H_
#define CANDOR_SERVER_ROUTER_ROUTER_SERVICE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "candor/v1/candor.grpc.pb.h"
#include "server/edge/edge_service.h"
#include "server/edge/status_util.h"
#include "server/security/call_gate.h"
#include "server/router/forwarding.h"
#include "server/router/router_options.h"
#include "server/router/shard_set.h"
#include "server/telemetry/call_record.h"
#include "server/telemetry/calibrator.h"
#include "server/telemetry/policy_store.h"
#include "server/telemetry/telemetry_units.h"

namespace candor::router {

class RouterService final : public api::EdgeService<RouterService> {
 public:
  // No pointer is owned; all outlive the service. `telemetry`: the same
  // units a server runs (decision, calibrator, audit sink, metrics);
  // `policies`: the galleries' policy overrides, kept by the router.
  RouterService(const RouterOptions& options, const ShardSet* shards,
                telemetry::TelemetryUnits* telemetry,
                telemetry::PolicyStore* policies,
                const security::CallGate* gate);

  // The search path of Search and SearchStream: decides the threshold,
  // scatters to every shard, merges; it finishes `search` exactly once,
  // possibly on another thread.
  void StartSearch(std::shared_ptr<api::AdmittedSearch> search);

 private:
  friend class api::EdgeService<RouterService>;

  // Every unary RPC (edge_service.h): the gate, then the work on the gRPC
  // thread with every shard call made on the caller's behalf.
  template <typename Req, typename Resp>
  grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* ctx,
                                 const char* rpc, const std::string& gallery,
                                 const Req& req, Resp* resp) {
    return Serve(ctx, rpc, gallery, [&](telemetry::CallRecord* record) {
      ScopedForwarding forwarding(record->caller, rpc);
      return Do(*ctx, req, resp);
    });
  }
  // The work of each unary RPC, on the caller's deadline.
  using Ctx = grpc::CallbackServerContext;
  absl::Status Do(const Ctx& ctx, const v1::CreateGalleryRequest& req,
                  v1::Gallery* resp);
  absl::Status Do(const Ctx& ctx, const v1::GetGalleryRequest& req,
                  v1::Gallery* resp);
  absl::Status Do(const Ctx& ctx, const v1::ListGalleriesRequest& req,
                  v1::ListGalleriesResponse* resp);
  absl::Status Do(const Ctx& ctx, const v1::DeleteGalleryRequest& req,
                  v1::DeleteGalleryResponse* resp);
  absl::Status Do(const Ctx& ctx, const v1::CompactGalleryRequest& req,
                  v1::CompactGalleryResponse* resp);
  absl::Status Do(const Ctx& ctx, const v1::EnrollRequest& req,
                  v1::EnrollResponse* resp);
  absl::Status Do(const Ctx& ctx, const v1::RemoveRequest& req,
                  v1::RemoveResponse* resp);
  absl::Status Do(const Ctx& ctx, const v1::CalibrateRequest& req,
                  v1::CalibrationReport* resp);
  absl::Status Do(const Ctx& ctx, const v1::GetCalibrationRequest& req,
                  v1::CalibrationReport* resp);
  absl::Status Do(const Ctx& ctx, const v1::SetPolicyRequest& req,
                  v1::Gallery* resp);
  absl::Status Do(const Ctx& ctx, const v1::TrainIndexRequest& req,
                  v1::Gallery* resp);
  absl::Status Do(const Ctx& ctx, const v1::GetStatsRequest& req,
                  v1::Stats* resp);
  // Metrics and the router's audit log.
  void Audit(const telemetry::CallRecord& record,
             std::function<void(absl::Status)> done);
  // The gate's decision; a refusal is logged with the identity and
  // recorded in the audit log like any call.
  absl::Status Admit(const grpc::CallbackServerContext& ctx, const char* rpc,
                     security::Caller* caller) const;
  // The gallery as the threshold decision sees it: its policy override and,
  // when it has a calibration (the report's staleness), its live size.
  absl::StatusOr<telemetry::PolicyGallery> PolicyView(const std::string& name,
                                                      absl::Time deadline);

  // The whole gallery as a single server would describe it (sizes summed
  // over shards, the router's policy and calibration state).
  absl::Status DoGetGallery(const std::string& name, absl::Time deadline,
                            v1::Gallery* resp);
  absl::StatusOr<v1::Gallery> AggregatedGallery(const std::string& name,
                                                absl::Time deadline);
  // The whole gallery's live size, cached for kSizeCacheTtl (for the
  // threshold report's staleness; writes through this router refresh it).
  absl::StatusOr<uint64_t> GallerySize(const std::string& name,
                                       absl::Time deadline);
  void ForgetSize(const std::string& name);

  absl::Status DoCreateGallery(const v1::CreateGalleryRequest& req,
                               absl::Time deadline, v1::Gallery* resp);
  absl::Status DoDeleteGallery(const v1::DeleteGalleryRequest& req,
                               absl::Time deadline);
  absl::Status DoListGalleries(absl::Time deadline,
                               v1::ListGalleriesResponse* resp);
  absl::Status DoCompactGallery(const v1::CompactGalleryRequest& req,
                                absl::Time deadline,
                                v1::CompactGalleryResponse* resp);
  absl::Status DoTrainIndex(const v1::TrainIndexRequest& req,
                            absl::Time deadline, v1::Gallery* resp);
  absl::Status DoGetStats(absl::Time deadline, v1::Stats* resp);
  absl::Status DoEnroll(const v1::EnrollRequest& req, absl::Time deadline,
                        v1::EnrollResponse* resp);
  absl::Status DoRemove(const v1::RemoveRequest& req, absl::Time deadline,
                        v1::RemoveResponse* resp);
  // The gallery version after a write: the sum over shards, asked again;
  // `fallback` (the written shards' sum) when that fails.
  uint64_t VersionAfterWrite(const std::string& gallery, absl::Time deadline,
                             uint64_t fallback);
  // Stops between chunks of searches once the caller is gone (`limits`).
  absl::Status DoCalibrate(const v1::CalibrateRequest& req,
                           const telemetry::CallLimits& limits,
                           v1::CalibrationReport* resp);
  absl::Status DoSetPolicy(const v1::SetPolicyRequest& req,
                           absl::Time deadline, v1::Gallery* resp);
  // Scatter-gather of an already-decided search, waited for (calibration).
  absl::StatusOr<v1::SearchResponse> SearchAndWait(
      const v1::SearchRequest& request, absl::Time deadline);
  void Scatter(const v1::SearchRequest& request, absl::Time deadline,
               std::function<void(absl::StatusOr<v1::SearchResponse>)> done);

  // The deadline for shard calls made for a call with `call_deadline`.
  absl::Time ShardDeadline(absl::Time call_deadline) const;

  struct SizeEntry {
    uint64_t size = 0;
    absl::Time fetched;
  };

  const RouterOptions options_;
  const ShardSet* const shards_;
  telemetry::TelemetryUnits* const telemetry_;
  telemetry::PolicyStore* const policies_;
  const security::CallGate* const gate_;
  absl::Mutex mu_;
  std::map<std::string, SizeEntry> sizes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace candor::router

#endif  // CANDOR_SERVER_ROUTER_ROUTER_SERVICE_H_
