// Calibrate and GetCalibration: the gallery's threshold calibration, run
// by the telemetry hub on a maintenance thread (its searches go through
// the same SearchRunner as Search), and the report of the last one.
#include <utility>

#include "server/api/candor_service.h"
#include "server/api/gallery_limits.h"
#include "server/edge/unary.h"
#include "server/edge/validation.h"

namespace candor::api {

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

absl::Status CandorService::Work(const Ctx& ctx,
                                 const v1::CalibrateRequest& req,
                                 v1::CalibrationReport* resp,
                                 CallRecord* record) {
  // Calibration holds a maintenance thread for as long as its searches
  // take: it looks at the caller's deadline and cancellation between
  // chunks.
  CallLimits limits;
  limits.deadline = DeadlineOf(ctx);
  limits.cancelled = [ctx = &ctx] { return ctx->IsCancelled(); };
  return DoCalibrate(req, limits, resp, record);
}

absl::Status CandorService::Work(const Ctx&,
                                 const v1::GetCalibrationRequest& req,
                                 v1::CalibrationReport* resp, CallRecord*) {
  auto gallery = FindGallery(req.gallery());
  if (!gallery.ok()) return gallery.status();
  auto report = telemetry_->GetCalibration(**gallery, req);
  if (!report.ok()) return report.status();
  *resp = *std::move(report);
  return absl::OkStatus();
}

}  // namespace candor::api
