#include "server/telemetry/telemetry_proto.h"

#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"

namespace candor::telemetry {
namespace {

// GetCalibration's target when neither the request nor the policy names one.
constexpr double kDefaultTargetFpir = 0.001;

void ToDisparityProto(const telemetry::Disparity& d, v1::Disparity* out) {
  out->set_defined(d.defined);
  out->set_ratio(d.ratio);
  out->set_max_group(d.max_group);
  out->set_min_group(d.min_group);
  ToRateProto(d.max_rate, out->mutable_max_rate());
  ToRateProto(d.min_rate, out->mutable_min_rate());
}

v1::PolicyVerdict::Outcome ToOutcome(telemetry::VerdictOutcome outcome) {
  switch (outcome) {
    case telemetry::VerdictOutcome::kPass:
      return v1::PolicyVerdict::PASS;
    case telemetry::VerdictOutcome::kWarn:
      return v1::PolicyVerdict::WARN;
    case telemetry::VerdictOutcome::kReject:
      return v1::PolicyVerdict::REJECT;
    case telemetry::VerdictOutcome::kNoPolicy:
      return v1::PolicyVerdict::NO_POLICY;
  }
  return v1::PolicyVerdict::OUTCOME_UNSPECIFIED;
}

void ToGroupCalibrationProto(const telemetry::GroupCalibration& g,
                             v1::GroupCalibration* out) {
  out->set_group(g.group);
  out->set_nonmated_searches(g.nonmated_searches);
  out->set_mated_searches(g.mated_searches);
  for (const telemetry::ThresholdPoint& p : g.points) {
    v1::ThresholdPoint* point = out->add_points();
    point->set_threshold(p.threshold);
    ToRateProto(p.fpir, point->mutable_fpir());
    ToRateProto(p.fnir, point->mutable_fnir());
  }
  if (g.threshold_for_target) {
    out->set_threshold_for_target(*g.threshold_for_target);
  }
}

}  // namespace

void ToRateProto(const telemetry::Rate& rate, v1::Rate* out) {
  out->set_errors(rate.errors);
  out->set_searches(rate.searches);
  out->set_rate(rate.rate);
  out->set_ci_low(rate.ci_low);
  out->set_ci_high(rate.ci_high);
  out->set_estimated(rate.estimated);
}

void ToCalibrationInfoProto(const telemetry::CalibrationInfo& info,
                            v1::CalibrationInfo* out) {
  out->set_present(info.present);
  out->set_calibrated_at_us(info.calibrated_at_us);
  out->set_age_seconds(info.age_seconds);
  out->set_gallery_size_at_calibration(info.gallery_size_at_calibration);
  out->set_gallery_version_at_calibration(info.gallery_version_at_calibration);
  out->set_gallery_size_now(info.gallery_size_now);
  out->set_stale(info.stale);
  out->set_source(info.source);
}

void ToThresholdReportProto(const telemetry::ThresholdReport& report,
                            v1::ThresholdReport* out) {
  out->set_threshold(report.threshold);
  out->set_source(report.source == telemetry::ThresholdSource::kPolicy
                      ? v1::ThresholdReport::POLICY
                      : v1::ThresholdReport::REQUEST);
  ToRateProto(report.fpir, out->mutable_fpir());
  ToRateProto(report.fnir, out->mutable_fnir());
  for (const telemetry::GroupRates& g : report.groups) {
    v1::GroupRates* group = out->add_groups();
    group->set_group(g.group);
    ToRateProto(g.fpir, group->mutable_fpir());
    ToRateProto(g.fnir, group->mutable_fnir());
    if (g.fpir_extrapolated) {
      ToRateProto(*g.fpir_extrapolated, group->mutable_fpir_extrapolated());
    }
  }
  ToDisparityProto(report.fpir_disparity, out->mutable_fpir_disparity());
  ToDisparityProto(report.fnir_disparity, out->mutable_fnir_disparity());
  out->set_garbe(report.garbe);
  out->set_garbe_defined(report.garbe_defined);
  ToCalibrationInfoProto(report.calibration, out->mutable_calibration());
  out->mutable_verdict()->set_outcome(ToOutcome(report.verdict.outcome));
  for (const std::string& v : report.verdict.violations) {
    out->mutable_verdict()->add_violations(v);
  }
}

void ToCalibrationReportProto(const telemetry::CalibrationReport& report,
                              const std::string& gallery,
                              v1::CalibrationReport* out) {
  out->set_gallery(gallery);
  ToCalibrationInfoProto(report.calibration, out->mutable_calibration());
  out->set_top_k(static_cast<uint32_t>(report.top_k));
  out->set_target_fpir(report.target_fpir);
  ToGroupCalibrationProto(report.overall, out->mutable_overall());
  for (const auto& g : report.groups) {
    ToGroupCalibrationProto(g, out->add_groups());
  }
  if (report.threshold_for_target) {
    out->set_threshold_for_target(*report.threshold_for_target);
  }
  for (const auto& d : report.fpir_disparity) {
    ToDisparityProto(d, out->add_fpir_disparity());
  }
  for (const auto& d : report.fnir_disparity) {
    ToDisparityProto(d, out->add_fnir_disparity());
  }
  // Undefined GARBE (fewer than two measured groups) travels as NaN, which
  // JSON renderers print as such rather than as a misleading 0.
  for (const auto& g : report.garbe) {
    out->add_garbe(g ? *g : std::numeric_limits<double>::quiet_NaN());
  }
}

telemetry::Policy FromPolicyProto(const v1::Policy& policy) {
  telemetry::Policy p;
  if (policy.has_min_threshold()) p.min_threshold = policy.min_threshold();
  if (policy.has_max_fpir()) p.max_fpir = policy.max_fpir();
  if (policy.has_max_disparity()) p.max_disparity = policy.max_disparity();
  switch (policy.action()) {
    case v1::Policy::REJECT:
      p.action = telemetry::PolicyAction::kReject;
      break;
    case v1::Policy::WARN:
      p.action = telemetry::PolicyAction::kWarn;
      break;
    default:
      p.action = telemetry::PolicyAction::kUnspecified;
  }
  return p;
}

v1::Policy ToPolicyProto(const telemetry::Policy& policy) {
  v1::Policy p;
  if (policy.min_threshold) p.set_min_threshold(*policy.min_threshold);
  if (policy.max_fpir) p.set_max_fpir(*policy.max_fpir);
  if (policy.max_disparity) p.set_max_disparity(*policy.max_disparity);
  p.set_action(policy.action == telemetry::PolicyAction::kWarn
                   ? v1::Policy::WARN
                   : v1::Policy::REJECT);
  return p;
}

absl::StatusOr<v1::CalibrationReport> CalibrationReportFor(
    const telemetry::Calibration& calibration, const telemetry::GalleryNow& now,
    const telemetry::Policy& policy, const std::string& gallery,
    const v1::GetCalibrationRequest& request) {
  // Element by element: GCC 12 at -O3 misreads a range copy out of a
  // RepeatedField as freeing a non-heap object (-Wfree-nonheap-object).
  std::vector<float> grid;
  grid.reserve(static_cast<size_t>(request.thresholds_size()));
  for (int i = 0; i < request.thresholds_size(); ++i) {
    const float t = request.thresholds(i);
    if (std::isnan(t) || t < -1.0f || t > 1.0f) {
      return absl::InvalidArgumentError(
          absl::StrCat("thresholds: ", t, " is outside [-1, 1]"));
    }
    grid.push_back(t);
  }
  if (grid.empty()) grid = telemetry::DefaultThresholdGrid();
  double target = request.target_fpir();
  if (target == 0.0) {
    target = policy.max_fpir ? *policy.max_fpir : kDefaultTargetFpir;
  }
  if (!(target > 0.0 && target <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("target_fpir: ", target, " is outside (0, 1]"));
  }
  auto report = telemetry::MakeCalibrationReport(calibration, now,
                                                 std::move(grid), target);
  if (!report.ok()) return report.status();
  v1::CalibrationReport out;
  ToCalibrationReportProto(*report, gallery, &out);
  return out;
}

}  // namespace candor::telemetry
