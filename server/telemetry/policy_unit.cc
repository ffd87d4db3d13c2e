#include "server/telemetry/policy_unit.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/telemetry/metrics_observer.h"
#include "server/telemetry/report.h"
#include "server/telemetry/telemetry_proto.h"

namespace candor::telemetry {
namespace {

GalleryNow Now(const PolicyGallery& gallery) {
  return {gallery.size, absl::ToUnixMicros(absl::Now())};
}

}  // namespace

PolicyUnit::PolicyUnit(Options options, const CalibrationStore* calibrations,
                       MetricsObserver* observer)
    : options_(std::move(options)),
      calibrations_(calibrations),
      observer_(observer) {}

Policy PolicyUnit::Effective(const Policy& override_policy) const {
  return Merge(options_.floor, override_policy);
}

absl::Status PolicyUnit::CheckOverride(const Policy& override_policy) const {
  absl::Status status = ValidatePolicy(override_policy);
  if (!status.ok()) return status;
  return CheckTightens(options_.floor, override_policy);
}

absl::StatusOr<ThresholdDecision> PolicyUnit::Decide(
    const PolicyGallery& gallery, const v1::SearchRequest& request) {
  CalibrationStore::Ptr calibration = calibrations_->Find(gallery.name);
  auto report = DecideThreshold(
      Effective(gallery.override_policy), calibration.get(), Now(gallery),
      gallery.name,
      request.has_threshold() ? std::optional<float>(request.threshold())
                              : std::nullopt,
      options_.how_to_calibrate);
  if (!report.ok()) return report.status();
  if (observer_ != nullptr) observer_->OnVerdict(report->verdict.outcome);
  if (report->verdict.outcome == VerdictOutcome::kReject) {
    return ToRejectError(report->verdict);
  }
  const bool from_policy = report->source == ThresholdSource::kPolicy;
  if (from_policy && observer_ != nullptr) {
    observer_->OnPolicyThreshold(gallery.name, *report);
  }
  ThresholdDecision decision;
  decision.threshold = report->threshold;
  decision.source =
      from_policy ? v1::ThresholdReport::POLICY : v1::ThresholdReport::REQUEST;
  ToThresholdReportProto(*report, &decision.report);
  decision.verdict = report->verdict;
  return decision;
}

absl::StatusOr<v1::CalibrationReport> PolicyUnit::Report(
    const PolicyGallery& gallery,
    const v1::GetCalibrationRequest& request) const {
  CalibrationStore::Ptr calibration = calibrations_->Find(gallery.name);
  if (!calibration) {
    return absl::FailedPreconditionError(
        absl::StrCat("gallery '", gallery.name,
                     "' has no calibration: ", options_.how_to_calibrate));
  }
  return CalibrationReportFor(*calibration, Now(gallery),
                              Effective(gallery.override_policy), gallery.name,
                              request);
}

void PolicyUnit::Describe(const PolicyGallery& gallery, bool* calibrated,
                          bool* stale) const {
  CalibrationStore::Ptr calibration = calibrations_->Find(gallery.name);
  *calibrated = calibration != nullptr;
  *stale = calibration != nullptr &&
           DescribeCalibration(calibration.get(), Now(gallery)).stale;
}

void PolicyUnit::Refresh(const PolicyGallery& gallery) {
  CalibrationStore::Ptr calibration = calibrations_->Find(gallery.name);
  if (!calibration || observer_ == nullptr) return;
  const GalleryNow now = Now(gallery);
  auto t = PolicyThreshold(Effective(gallery.override_policy),
                           calibration.get(), gallery.name, now.size);
  if (!t.ok()) return;
  observer_->OnPolicyThreshold(
      gallery.name, MakeThresholdReport(calibration.get(), now, *t,
                                        ThresholdSource::kPolicy));
}

}  // namespace candor::telemetry
