#include "server/router/router_telemetry.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/api/telemetry_proto.h"
#include "server/common/log.h"
#include "server/telemetry/calibration_io.h"
#include "server/telemetry/report.h"

namespace candor::router {
namespace {

constexpr char kDirName[] = "router-calibrations";
constexpr char kHowToCalibrate[] =
    "run Calibrate with a labeled set through the router";

telemetry::GalleryNow Now(uint64_t size) {
  return {size, absl::ToUnixMicros(absl::Now())};
}

// The router's disk is optional: a router pod usually has no volume.
std::unique_ptr<api::CalibrationStore> OpenStore(const std::string& data_dir) {
  if (!data_dir.empty()) {
    auto store =
        api::CalibrationStore::Open(absl::StrCat(data_dir, "/", kDirName));
    if (store.ok()) return *std::move(store);
    LogWarning(absl::StrCat("router calibrations kept in memory only: ",
                            store.status().ToString()));
  }
  return std::make_unique<api::CalibrationStore>();
}

}  // namespace

RouterTelemetry::RouterTelemetry(const api::PolicyDefaults& policy,
                                 const std::string& data_dir)
    : policy_(api::FromPolicyDefaults(policy)),
      calibrations_(OpenStore(data_dir)) {}

bool RouterTelemetry::HasCalibration(const std::string& gallery) const {
  return calibrations_->Find(gallery) != nullptr;
}

absl::StatusOr<RouterDecision> RouterTelemetry::Decide(
    const std::string& gallery, uint64_t gallery_size_now,
    const v1::SearchRequest& request) {
  api::CalibrationStore::Ptr calibration = calibrations_->Find(gallery);
  auto report = telemetry::DecideThreshold(
      policy_, calibration.get(), Now(gallery_size_now), gallery,
      request.has_threshold() ? std::optional<float>(request.threshold())
                              : std::nullopt,
      kHowToCalibrate);
  if (!report.ok()) return report.status();
  if (report->verdict.outcome == telemetry::VerdictOutcome::kReject) {
    return telemetry::ToRejectError(report->verdict);
  }
  RouterDecision decision;
  decision.threshold = report->threshold;
  api::ToThresholdReportProto(*report, &decision.report);
  return decision;
}

void RouterTelemetry::Store(const std::string& gallery,
                            telemetry::Calibration calibration) {
  auto kept =
      std::make_shared<const telemetry::Calibration>(std::move(calibration));
  absl::Status saved = calibrations_->Save(gallery, kept);
  if (!saved.ok()) {
    LogWarning(absl::StrCat("calibration of '", gallery,
                            "' kept in memory only: ", saved.ToString()));
    calibrations_->Keep(gallery, std::move(kept));
  }
}

absl::StatusOr<v1::CalibrationReport> RouterTelemetry::Report(
    const std::string& gallery, uint64_t gallery_size_now,
    const v1::GetCalibrationRequest& request) const {
  api::CalibrationStore::Ptr calibration = calibrations_->Find(gallery);
  if (!calibration) {
    return absl::FailedPreconditionError(
        absl::StrCat("gallery '", gallery,
                     "' has no calibration at this router: ", kHowToCalibrate));
  }
  return api::CalibrationReportFor(*calibration, Now(gallery_size_now), policy_,
                                   gallery, request);
}

void RouterTelemetry::Describe(const std::string& gallery,
                               uint64_t gallery_size_now, bool* calibrated,
                               bool* stale) const {
  api::CalibrationStore::Ptr calibration = calibrations_->Find(gallery);
  *calibrated = calibration != nullptr;
  *stale =
      calibration != nullptr &&
      telemetry::DescribeCalibration(calibration.get(), Now(gallery_size_now))
          .stale;
}

void RouterTelemetry::Forget(const std::string& gallery) {
  calibrations_->Forget(gallery);
}

}  // namespace candor::router
