#include "server/telemetry/policy.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace candor::telemetry {
namespace {

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

template <typename T>
std::optional<T> Stricter(std::optional<T> floor, std::optional<T> override_value,
                          bool higher_is_stricter) {
  if (!floor) return override_value;
  if (!override_value) return floor;
  return higher_is_stricter ? std::max(*floor, *override_value)
                            : std::min(*floor, *override_value);
}

}  // namespace

bool HasConstraint(const Policy& p) {
  return p.min_threshold || p.max_fpir || p.max_disparity;
}

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
  Policy merged;
  merged.min_threshold = Stricter(server_default.min_threshold,
                                  override_policy.min_threshold, true);
  merged.max_fpir =
      Stricter(server_default.max_fpir, override_policy.max_fpir, false);
  merged.max_disparity = Stricter(server_default.max_disparity,
                                  override_policy.max_disparity, false);
  const bool floor_rejects = HasConstraint(server_default) &&
                             server_default.action != PolicyAction::kWarn;
  merged.action = floor_rejects ? PolicyAction::kReject
                  : override_policy.action != PolicyAction::kUnspecified
                      ? override_policy.action
                      : server_default.action;
  return merged;
}

absl::Status CheckTightens(const Policy& floor, const Policy& p) {
  auto loosens = [](absl::string_view field, double value,
                    absl::string_view flag, double floor_value,
                    absl::string_view direction) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "policy.%s %g would loosen the server's --%s=%g: a gallery's policy "
        "may only %s it",
        field, value, flag, floor_value, direction));
  };
  if (floor.min_threshold && p.min_threshold &&
      *p.min_threshold < *floor.min_threshold) {
    return loosens("min_threshold", *p.min_threshold, "min_threshold",
                   *floor.min_threshold, "raise");
  }
  if (floor.max_fpir && p.max_fpir && *p.max_fpir > *floor.max_fpir) {
    return loosens("max_fpir", *p.max_fpir, "max_fpir", *floor.max_fpir,
                   "lower");
  }
  if (floor.max_disparity && p.max_disparity &&
      *p.max_disparity > *floor.max_disparity) {
    return loosens("max_disparity", *p.max_disparity, "max_disparity",
                   *floor.max_disparity, "lower");
  }
  if (HasConstraint(floor) && floor.action != PolicyAction::kWarn &&
      p.action == PolicyAction::kWarn) {
    return absl::FailedPreconditionError(
        "policy.action WARN would loosen the server's --policy_action=reject: "
        "a gallery's policy may only turn warn into reject");
  }
  return absl::OkStatus();
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
  absl::Status status = absl::FailedPreconditionError(
      absl::StrCat("policy rejects the request: ",
                   absl::StrJoin(verdict.violations, "; ")));
  // The API layer turns this into a google.rpc.ErrorInfo status detail.
  status.SetPayload(kErrorInfoTypeUrl, absl::Cord(kPolicyRejectReason));
  return status;
}

bool IsPolicyRejection(const absl::Status& status) {
  const auto reason = status.GetPayload(kErrorInfoTypeUrl);
  return reason && *reason == kPolicyRejectReason;
}

}  // namespace candor::telemetry
