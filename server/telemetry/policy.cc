#include "server/telemetry/policy.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace candor::telemetry {
namespace {

bool HasConstraint(const Policy& p) {
  return p.min_threshold || p.max_fpir || p.max_disparity;
}

std::string GroupName(const std::string& group) {
  return group.empty() ? "(unlabeled)" : group;
}

std::string Counts(const Rate& r) {
  return absl::StrFormat("%.4g (%d/%d)%s", r.rate, r.errors, r.searches,
                         r.estimated ? ", extrapolated" : "");
}

void CheckFpir(double max_fpir, const ThresholdReport& report,
               std::vector<std::string>* violations) {
  for (const GroupRates& g : report.groups) {
    const Rate& fpir = g.fpir_extrapolated ? *g.fpir_extrapolated : g.fpir;
    if (fpir.searches == 0 || fpir.rate <= max_fpir) continue;
    violations->push_back(absl::StrFormat(
        "FPIR of group %s at threshold %.6g is %s, above max_fpir %g",
        GroupName(g.group), report.threshold, Counts(fpir), max_fpir));
  }
}

void CheckDisparity(double max_disparity, const ThresholdReport& report,
                    std::vector<std::string>* violations) {
  const Disparity& d = report.fpir_disparity;
  // An undefined ratio (a group without false positives) is no measured
  // breach; the report still shows it with the counts.
  if (!d.defined || d.ratio <= max_disparity) return;
  violations->push_back(absl::StrFormat(
      "FPIR disparity at threshold %.6g is %.4g (group %s: %s; group %s: "
      "%s), above max_disparity %g",
      report.threshold, d.ratio, d.max_group, Counts(d.max_rate), d.min_group,
      Counts(d.min_rate), max_disparity));
}

// The FPIR at N0 that extrapolates to `target` at the current size: the
// inverse of 1 - (1 - x)^r.
double TargetAtCalibrationSize(double target, double size_ratio) {
  if (target >= 1.0) return 1.0;
  return -std::expm1(std::log1p(-target) / size_ratio);
}

}  // namespace

const char* VerdictOutcomeName(VerdictOutcome outcome) {
  switch (outcome) {
    case VerdictOutcome::kPass:
      return "pass";
    case VerdictOutcome::kWarn:
      return "warn";
    case VerdictOutcome::kReject:
      return "reject";
    case VerdictOutcome::kNoPolicy:
      return "no_policy";
  }
  return "unknown";
}

absl::Status ValidatePolicy(const Policy& p) {
  if (p.min_threshold && !(*p.min_threshold >= -1.0f && *p.min_threshold <= 1.0f)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "policy min_threshold %g is outside [-1, 1]", *p.min_threshold));
  }
  if (p.max_fpir && !(*p.max_fpir >= 0.0 && *p.max_fpir <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("policy max_fpir %g is outside [0, 1]", *p.max_fpir));
  }
  if (p.max_disparity && !(*p.max_disparity >= 1.0)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "policy max_disparity %g is below 1 (a max/min ratio is >= 1)",
        *p.max_disparity));
  }
  return absl::OkStatus();
}

Policy Merge(const Policy& server_default, const Policy& override_policy) {
  Policy merged = server_default;
  if (override_policy.min_threshold) merged.min_threshold = override_policy.min_threshold;
  if (override_policy.max_fpir) merged.max_fpir = override_policy.max_fpir;
  if (override_policy.max_disparity) merged.max_disparity = override_policy.max_disparity;
  if (override_policy.action != PolicyAction::kUnspecified) {
    merged.action = override_policy.action;
  }
  return merged;
}

Verdict Evaluate(const Policy& policy, float threshold,
                 const ThresholdReport* report) {
  Verdict verdict;
  if (!HasConstraint(policy)) return verdict;
  if (policy.min_threshold && threshold < *policy.min_threshold) {
    verdict.violations.push_back(
        absl::StrFormat("threshold %.6g is below min_threshold %.6g",
                        threshold, *policy.min_threshold));
  }
  if (report == nullptr || !report->calibration.present) {
    if (policy.max_fpir) {
      verdict.violations.push_back(absl::StrFormat(
          "max_fpir %g cannot be checked: the gallery has no calibration",
          *policy.max_fpir));
    }
    if (policy.max_disparity) {
      verdict.violations.push_back(absl::StrFormat(
          "max_disparity %g cannot be checked: the gallery has no calibration",
          *policy.max_disparity));
    }
  } else {
    if (policy.max_fpir) CheckFpir(*policy.max_fpir, *report, &verdict.violations);
    if (policy.max_disparity) {
      CheckDisparity(*policy.max_disparity, *report, &verdict.violations);
    }
  }
  if (verdict.violations.empty()) {
    verdict.outcome = VerdictOutcome::kPass;
  } else if (policy.action == PolicyAction::kWarn) {
    verdict.outcome = VerdictOutcome::kWarn;
  } else {
    verdict.outcome = VerdictOutcome::kReject;
  }
  return verdict;
}

absl::StatusOr<float> PolicyThreshold(const Policy& policy,
                                      const Calibration* calibration,
                                      std::string_view gallery,
                                      uint64_t gallery_size_now) {
  if ((policy.max_fpir || policy.max_disparity) && calibration == nullptr) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "gallery %s has no calibration; policy %s needs one: run Calibrate",
        gallery, policy.max_fpir ? "max_fpir" : "max_disparity"));
  }
  if (!policy.max_fpir) {
    if (policy.min_threshold) return *policy.min_threshold;
    return absl::FailedPreconditionError(absl::StrFormat(
        "gallery %s has no policy threshold (the policy sets neither max_fpir "
        "nor min_threshold): send a threshold",
        gallery));
  }
  const double ratio = static_cast<double>(gallery_size_now) /
                       static_cast<double>(calibration->meta().gallery_size);
  const bool stale =
      DescribeCalibration(calibration, {gallery_size_now, 0}).stale;
  const double target =
      stale ? TargetAtCalibrationSize(*policy.max_fpir, ratio) : *policy.max_fpir;
  std::optional<float> t = calibration->ThresholdForAllGroups(target);
  if (!t) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "gallery %s: no threshold in [-1, 1] holds every group under "
        "max_fpir %g (FPIR %.4g at the calibrated size of %d entries)",
        gallery, *policy.max_fpir, target, calibration->meta().gallery_size));
  }
  if (policy.min_threshold) t = std::max(*t, *policy.min_threshold);
  return *t;
}

absl::StatusOr<ThresholdReport> DecideThreshold(
    const Policy& policy, const Calibration* calibration,
    const GalleryNow& now, const std::string& gallery,
    std::optional<float> requested_threshold,
    const std::string& how_to_calibrate) {
  if ((policy.max_fpir || policy.max_disparity) && calibration == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "gallery '", gallery, "' has no calibration and its policy (",
        policy.max_fpir ? "max_fpir" : "max_disparity", ") needs one: ",
        how_to_calibrate));
  }
  float threshold = 0.0f;
  ThresholdSource source = ThresholdSource::kRequest;
  if (requested_threshold) {
    threshold = *requested_threshold;
  } else {
    auto policy_threshold =
        PolicyThreshold(policy, calibration, gallery, now.size);
    if (!policy_threshold.ok()) return policy_threshold.status();
    threshold = *policy_threshold;
    source = ThresholdSource::kPolicy;
  }
  ThresholdReport report =
      MakeThresholdReport(calibration, now, threshold, source);
  report.verdict = Evaluate(policy, threshold, &report);
  return report;
}

absl::Status ToRejectError(const Verdict& verdict) {
  if (verdict.outcome != VerdictOutcome::kReject) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("policy rejects the request: ",
                   absl::StrJoin(verdict.violations, "; ")));
}

}  // namespace candor::telemetry
