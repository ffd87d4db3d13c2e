// Gallery administration RPCs.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/api/candor_service.h"
#include "server/api/convert.h"
#include "server/api/unary.h"
#include "server/api/validation.h"

namespace candor::api {

std::string CallerIdentity(const grpc::CallbackServerContext& ctx) {
  auto auth = ctx.auth_context();
  if (auth && auth->IsPeerAuthenticated()) {
    std::string identity;
    for (const auto& value : auth->GetPeerIdentity()) {
      absl::StrAppend(&identity, identity.empty() ? "" : ",",
                      std::string(value.data(), value.size()));
    }
    if (!identity.empty()) return identity;
  }
  return ctx.peer();
}

CandorService::CandorService(const ServerOptions& options,
                             gallery::GalleryStore* store, SearchRunner* runner,
                             TelemetryHub* telemetry)
    : options_(options), store_(store), runner_(runner), telemetry_(telemetry) {}

absl::StatusOr<std::shared_ptr<gallery::Gallery>> CandorService::FindGallery(
    const std::string& name) const {
  if (name.empty()) {
    return absl::InvalidArgumentError("gallery: name is empty");
  }
  return store_->Get(name);
}

absl::Status CandorService::DoCreateGallery(const v1::CreateGalleryRequest& req,
                                            v1::Gallery* resp) {
  absl::Status status = gallery::ValidateGalleryName(req.name());
  if (!status.ok()) return status;
  status = ValidateDimension(req.dimension());
  if (!status.ok()) return status;
  auto index_config = ToIndexConfig(req.index(), req.dimension());
  if (!index_config.ok()) return index_config.status();
  gallery::GalleryConfig config;
  config.name = req.name();
  config.index = *index_config;
  if (req.has_policy()) config.policy_blob = PolicyToBlob(req.policy());
  config.created_at_us = absl::ToUnixMicros(absl::Now());
  auto created = store_->Create(config);
  if (!created.ok()) return created.status();
  return DoGetGallery(req.name(), resp);
}

absl::Status CandorService::DoGetGallery(const std::string& name,
                                         v1::Gallery* resp) {
  auto gallery = FindGallery(name);
  if (!gallery.ok()) return gallery.status();
  ToGalleryProto((*gallery)->Info(), telemetry_->EffectivePolicy(**gallery),
                 resp);
  bool calibrated = false, stale = false;
  telemetry_->DescribeCalibration(**gallery, &calibrated, &stale);
  resp->set_calibrated(calibrated);
  resp->set_calibration_stale(stale);
  return absl::OkStatus();
}

absl::Status CandorService::DoDeleteGallery(
    const v1::DeleteGalleryRequest& req) {
  if (req.name().empty()) {
    return absl::InvalidArgumentError("name: gallery name is empty");
  }
  absl::Status status = store_->Delete(req.name());
  if (status.ok()) telemetry_->ForgetGallery(req.name());
  return status;
}

absl::Status CandorService::DoCompactGallery(
    const v1::CompactGalleryRequest& req, v1::CompactGalleryResponse* resp) {
  auto gallery = FindGallery(req.name());
  if (!gallery.ok()) return gallery.status();
  auto result = (*gallery)->Compact();
  if (!result.ok()) return result.status();
  resp->set_bytes_before(result->bytes_before);
  resp->set_bytes_after(result->bytes_after);
  resp->set_erased_entries(result->erased_entries);
  return absl::OkStatus();
}

absl::Status CandorService::DoSetPolicy(const v1::SetPolicyRequest& req,
                                        v1::Gallery* resp) {
  auto gallery = FindGallery(req.gallery());
  if (!gallery.ok()) return gallery.status();
  const v1::Policy& p = req.policy();
  if (!req.clear()) {
    if (p.has_min_threshold()) {
      absl::Status s = ValidateThreshold(p.min_threshold());
      if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("policy.min_", s.message()));
    }
    if (p.has_max_fpir() && !(p.max_fpir() >= 0.0 && p.max_fpir() <= 1.0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("policy.max_fpir: ", p.max_fpir(), " is outside [0, 1]"));
    }
    if (p.has_max_disparity() && !(p.max_disparity() >= 1.0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "policy.max_disparity: ", p.max_disparity(), " is below 1"));
    }
  }
  absl::Status status =
      (*gallery)->SetPolicyBlob(req.clear() ? std::string() : PolicyToBlob(p));
  if (!status.ok()) return status;
  return DoGetGallery(req.gallery(), resp);
}

absl::Status CandorService::DoTrainIndex(const v1::TrainIndexRequest& req,
                                         v1::Gallery* resp) {
  auto gallery = FindGallery(req.gallery());
  if (!gallery.ok()) return gallery.status();
  if ((*gallery)->Info().config.index.type != index::IndexType::kIvfFlat) {
    return absl::FailedPreconditionError(absl::StrCat(
        "gallery '", req.gallery(), "' has a flat index: nothing to train"));
  }
  absl::Status status = (*gallery)->TrainIndex(static_cast<int>(req.nlist()));
  if (!status.ok()) return status;
  return DoGetGallery(req.gallery(), resp);
}

absl::Status CandorService::DoGetStats(v1::Stats* resp) {
  MemoryBytes total;
  uint64_t entries = 0;
  std::string backend;
  auto galleries = store_->List();
  for (const auto& g : galleries) {
    gallery::GalleryInfo info = g->Info();
    total.host_bytes += info.memory.host_bytes;
    total.device_bytes += info.memory.device_bytes;
    entries += info.size;
    if (backend.empty()) backend = info.backend;
  }
  resp->set_galleries(galleries.size());
  resp->set_entries(entries);
  ToMemoryProto(total, entries, resp->mutable_memory());
  auto resolved = index::ResolveBackend(options_.backend);
  resp->set_backend(resolved.ok() ? index::BackendName(*resolved) : backend);
  resp->set_version(CANDOR_VERSION);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* CandorService::CreateGallery(
    grpc::CallbackServerContext* ctx, const v1::CreateGalleryRequest* req,
    v1::Gallery* resp) {
  return FinishWith(ctx, [&] { return DoCreateGallery(*req, resp); });
}

grpc::ServerUnaryReactor* CandorService::GetGallery(
    grpc::CallbackServerContext* ctx, const v1::GetGalleryRequest* req,
    v1::Gallery* resp) {
  return FinishWith(ctx, [&] { return DoGetGallery(req->name(), resp); });
}

grpc::ServerUnaryReactor* CandorService::ListGalleries(
    grpc::CallbackServerContext* ctx, const v1::ListGalleriesRequest* req,
    v1::ListGalleriesResponse* resp) {
  return FinishWith(ctx, [&] {
    for (const auto& g : store_->List()) {
      absl::Status s = DoGetGallery(g->name(), resp->add_galleries());
      // Deleted between List and Get: leave it out.
      if (absl::IsNotFound(s)) resp->mutable_galleries()->RemoveLast();
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CandorService::DeleteGallery(
    grpc::CallbackServerContext* ctx, const v1::DeleteGalleryRequest* req,
    v1::DeleteGalleryResponse* resp) {
  return FinishWith(ctx, [&] { return DoDeleteGallery(*req); });
}

grpc::ServerUnaryReactor* CandorService::CompactGallery(
    grpc::CallbackServerContext* ctx, const v1::CompactGalleryRequest* req,
    v1::CompactGalleryResponse* resp) {
  return FinishWith(ctx, [&] { return DoCompactGallery(*req, resp); });
}

grpc::ServerUnaryReactor* CandorService::SetPolicy(
    grpc::CallbackServerContext* ctx, const v1::SetPolicyRequest* req,
    v1::Gallery* resp) {
  return FinishWith(ctx, [&] { return DoSetPolicy(*req, resp); });
}

grpc::ServerUnaryReactor* CandorService::TrainIndex(
    grpc::CallbackServerContext* ctx, const v1::TrainIndexRequest* req,
    v1::Gallery* resp) {
  return FinishWith(ctx, [&] { return DoTrainIndex(*req, resp); });
}

grpc::ServerUnaryReactor* CandorService::GetStats(
    grpc::CallbackServerContext* ctx, const v1::GetStatsRequest* req,
    v1::Stats* resp) {
  return FinishWith(ctx, [&] { return DoGetStats(resp); });
}

}  // namespace candor::api
