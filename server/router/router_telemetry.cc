#include "server/router/router_telemetry.h"

#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/api/telemetry_proto.h"
#include "server/common/log.h"
#include "server/telemetry/calibration_io.h"
#include "server/telemetry/report.h"

namespace candor::router {
namespace {

constexpr char kDirName[] = "router-calibrations";
constexpr char kSuffix[] = ".cal";
// GetCalibration's target when neither the request nor the policy names
// one (the server's default too).
constexpr double kDefaultTargetFpir = 0.001;

telemetry::Policy FromDefaults(const api::PolicyDefaults& d) {
  telemetry::Policy p;
  p.min_threshold = d.min_threshold;
  p.max_fpir = d.max_fpir;
  p.max_disparity = d.max_disparity;
  p.action = d.action == "warn" ? telemetry::PolicyAction::kWarn
                                : telemetry::PolicyAction::kReject;
  return p;
}

telemetry::GalleryNow Now(uint64_t size) {
  return {size, absl::ToUnixMicros(absl::Now())};
}

}  // namespace

RouterTelemetry::RouterTelemetry(const api::PolicyDefaults& policy,
                                 const std::string& data_dir)
    : policy_(FromDefaults(policy)) {
  if (data_dir.empty()) return;
  const std::string dir = absl::StrCat(data_dir, "/", kDirName);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    LogWarning(
        absl::StrCat("router calibrations kept in memory only: cannot "
                     "create ",
                     dir, ": ", ec.message()));
    return;
  }
  dir_ = dir;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (entry.path().extension() != kSuffix) continue;
    auto calibration = telemetry::LoadCalibration(entry.path().string());
    if (!calibration.ok()) {
      LogWarning(absl::StrCat("ignoring calibration ", entry.path().string(),
                              ": ", calibration.status().ToString()));
      continue;
    }
    absl::MutexLock lock(&mu_);
    calibrations_[entry.path().stem().string()] =
        std::make_shared<const telemetry::Calibration>(*std::move(calibration));
  }
}

RouterTelemetry::CalibrationPtr RouterTelemetry::Find(
    const std::string& gallery) const {
  absl::MutexLock lock(&mu_);
  auto it = calibrations_.find(gallery);
  return it == calibrations_.end() ? nullptr : it->second;
}

bool RouterTelemetry::HasCalibration(const std::string& gallery) const {
  return Find(gallery) != nullptr;
}

std::string RouterTelemetry::PathOf(const std::string& gallery) const {
  return absl::StrCat(dir_, "/", gallery, kSuffix);
}

absl::StatusOr<RouterDecision> RouterTelemetry::Decide(
    const std::string& gallery, uint64_t gallery_size_now,
    const v1::SearchRequest& request) {
  CalibrationPtr calibration = Find(gallery);
  if ((policy_.max_fpir || policy_.max_disparity) && calibration == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "gallery '", gallery,
        "' has no calibration at this router and its "
        "policy (",
        policy_.max_fpir ? "max_fpir" : "max_disparity",
        ") needs one: run Calibrate with a labeled set through the router"));
  }
  const telemetry::GalleryNow now = Now(gallery_size_now);
  float threshold = 0.0f;
  telemetry::ThresholdSource source = telemetry::ThresholdSource::kRequest;
  if (request.has_threshold()) {
    threshold = request.threshold();
  } else {
    auto policy_threshold = telemetry::PolicyThreshold(
        policy_, calibration.get(), gallery, now.size);
    if (!policy_threshold.ok()) return policy_threshold.status();
    threshold = *policy_threshold;
    source = telemetry::ThresholdSource::kPolicy;
  }
  telemetry::ThresholdReport report =
      telemetry::MakeThresholdReport(calibration.get(), now, threshold, source);
  report.verdict = telemetry::Evaluate(policy_, threshold, &report);
  if (report.verdict.outcome == telemetry::VerdictOutcome::kReject) {
    return telemetry::ToRejectError(report.verdict);
  }
  RouterDecision decision;
  decision.threshold = threshold;
  api::ToThresholdReportProto(report, &decision.report);
  return decision;
}

void RouterTelemetry::Store(const std::string& gallery,
                            telemetry::Calibration calibration) {
  if (!dir_.empty()) {
    absl::Status saved =
        telemetry::SaveCalibration(calibration, PathOf(gallery));
    if (!saved.ok()) {
      LogWarning(absl::StrCat("calibration of '", gallery,
                              "' kept in memory only: ", saved.ToString()));
    }
  }
  absl::MutexLock lock(&mu_);
  calibrations_[gallery] =
      std::make_shared<const telemetry::Calibration>(std::move(calibration));
}

absl::StatusOr<v1::CalibrationReport> RouterTelemetry::Report(
    const std::string& gallery, uint64_t gallery_size_now,
    const v1::GetCalibrationRequest& request) const {
  CalibrationPtr calibration = Find(gallery);
  if (!calibration) {
    return absl::FailedPreconditionError(
        absl::StrCat("gallery '", gallery,
                     "' has no calibration at this router: run "
                     "Calibrate with a labeled set through the router"));
  }
  std::vector<float> grid(request.thresholds().begin(),
                          request.thresholds().end());
  for (float t : grid) {
    if (std::isnan(t) || t < -1.0f || t > 1.0f) {
      return absl::InvalidArgumentError(
          absl::StrCat("thresholds: ", t, " is outside [-1, 1]"));
    }
  }
  if (grid.empty()) grid = telemetry::DefaultThresholdGrid();
  double target = request.target_fpir();
  if (target == 0.0) {
    target = policy_.max_fpir ? *policy_.max_fpir : kDefaultTargetFpir;
  }
  if (!(target > 0.0 && target <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("target_fpir: ", target, " is outside (0, 1]"));
  }
  auto report = telemetry::MakeCalibrationReport(
      *calibration, Now(gallery_size_now), std::move(grid), target);
  if (!report.ok()) return report.status();
  v1::CalibrationReport out;
  api::ToCalibrationReportProto(*report, gallery, &out);
  return out;
}

void RouterTelemetry::Describe(const std::string& gallery,
                               uint64_t gallery_size_now, bool* calibrated,
                               bool* stale) const {
  CalibrationPtr calibration = Find(gallery);
  *calibrated = calibration != nullptr;
  *stale =
      calibration != nullptr &&
      telemetry::DescribeCalibration(calibration.get(), Now(gallery_size_now))
          .stale;
}

void RouterTelemetry::Forget(const std::string& gallery) {
  {
    absl::MutexLock lock(&mu_);
    calibrations_.erase(gallery);
  }
  if (dir_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove(PathOf(gallery), ignored);
}

}  // namespace candor::router
