// The gRPC front end: validates, maps proto <-> core, and hands work to the
// gallery store and the search runner. Handlers use the callback API; the
// work of each RPC lives in a Do* method returning absl::Status, mapped to
// grpc::Status once (status_util.h).
#ifndef CANDOR_SERVER_API_CANDOR_SERVICE_H_
#define CANDOR_SERVER_API_CANDOR_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "candor/v1/candor.grpc.pb.h"
#include "server/api/options.h"
#include "server/api/search_runner.h"
#include "server/api/telemetry_hub.h"
#include "server/gallery/gallery_store.h"

namespace candor::api {

class CandorService final : public v1::Candor::CallbackService {
 public:
  // None of the pointers is owned; all outlive the service.
  CandorService(const ServerOptions& options, gallery::GalleryStore* store,
                SearchRunner* runner, TelemetryHub* telemetry);

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

  // The search path, shared by Search and SearchStream: validates, resolves
  // the threshold and policy, runs the search and fills the response.
  // `done` is called exactly once, possibly on another thread.
  void StartSearch(const v1::SearchRequest& request, absl::Time deadline,
                   const std::string& caller, v1::SearchResponse* response,
                   std::function<void(absl::Status)> done);

 private:
  absl::Status DoCreateGallery(const v1::CreateGalleryRequest& req,
                               v1::Gallery* resp);
  absl::Status DoGetGallery(const std::string& name, v1::Gallery* resp);
  absl::Status DoDeleteGallery(const v1::DeleteGalleryRequest& req);
  absl::Status DoCompactGallery(const v1::CompactGalleryRequest& req,
                                v1::CompactGalleryResponse* resp);
  absl::Status DoEnroll(const v1::EnrollRequest& req, const std::string& caller,
                        v1::EnrollResponse* resp);
  absl::Status DoRemove(const v1::RemoveRequest& req, const std::string& caller,
                        v1::RemoveResponse* resp);
  absl::Status DoSetPolicy(const v1::SetPolicyRequest& req, v1::Gallery* resp);
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
};

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_CANDOR_SERVICE_H_
