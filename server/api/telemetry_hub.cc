#include "server/api/telemetry_hub.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/api/convert.h"

namespace candor::api {

class TelemetryHub::Impl {
 public:
  explicit Impl(const ServerOptions& options) : options_(options) {
    const PolicyDefaults& d = options.policy;
    if (d.min_threshold) defaults_.set_min_threshold(*d.min_threshold);
    if (d.max_fpir) defaults_.set_max_fpir(*d.max_fpir);
    if (d.max_disparity) defaults_.set_max_disparity(*d.max_disparity);
    defaults_.set_action(d.action == "warn" ? v1::Policy::WARN
                                            : v1::Policy::REJECT);
  }

  v1::Policy EffectivePolicy(const gallery::Gallery& gallery) const {
    v1::Policy merged = defaults_;
    v1::Policy override_policy =
        PolicyFromBlob(gallery.Info().config.policy_blob);
    if (override_policy.has_min_threshold()) {
      merged.set_min_threshold(override_policy.min_threshold());
    }
    if (override_policy.has_max_fpir()) {
      merged.set_max_fpir(override_policy.max_fpir());
    }
    if (override_policy.has_max_disparity()) {
      merged.set_max_disparity(override_policy.max_disparity());
    }
    if (override_policy.action() != v1::Policy::ACTION_UNSPECIFIED) {
      merged.set_action(override_policy.action());
    }
    return merged;
  }

  absl::StatusOr<ThresholdDecision> Decide(const gallery::Gallery& gallery,
                                           const v1::SearchRequest& request) {
    const v1::Policy policy = EffectivePolicy(gallery);
    const bool needs_calibration =
        policy.has_max_fpir() || policy.has_max_disparity();
    if (needs_calibration) {
      return absl::FailedPreconditionError(absl::StrCat(
          "gallery '", gallery.name(),
          "' has no calibration and its policy (max_fpir / max_disparity) "
          "needs one: run Calibrate first"));
    }
    if (!request.has_threshold()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "no threshold given and gallery '", gallery.name(),
          "' has no policy threshold (set max_fpir and calibrate, or pass a "
          "threshold)"));
    }
    ThresholdDecision decision;
    decision.threshold = request.threshold();
    decision.source = v1::ThresholdReport::REQUEST;
    v1::ThresholdReport& report = decision.report;
    report.set_threshold(decision.threshold);
    report.set_source(decision.source);
    report.mutable_calibration()->set_present(false);
    report.mutable_calibration()->set_gallery_size_now(gallery.Info().size);
    v1::PolicyVerdict* verdict = report.mutable_verdict();
    if (!policy.has_min_threshold()) {
      verdict->set_outcome(v1::PolicyVerdict::NO_POLICY);
      return decision;
    }
    if (decision.threshold >= policy.min_threshold()) {
      verdict->set_outcome(v1::PolicyVerdict::PASS);
      return decision;
    }
    const std::string violation =
        absl::StrFormat("threshold %.4f is below the policy's min_threshold %.4f",
                        decision.threshold, policy.min_threshold());
    if (policy.action() == v1::Policy::WARN) {
      verdict->set_outcome(v1::PolicyVerdict::WARN);
      verdict->add_violations(violation);
      return decision;
    }
    return absl::FailedPreconditionError(
        absl::StrCat("policy breach (reject): ", violation));
  }

 private:
  const ServerOptions options_;
  v1::Policy defaults_;
};

absl::StatusOr<std::unique_ptr<TelemetryHub>> TelemetryHub::Create(
    const ServerOptions& options) {
  return std::unique_ptr<TelemetryHub>(
      new TelemetryHub(std::make_unique<Impl>(options)));
}

TelemetryHub::TelemetryHub(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
TelemetryHub::~TelemetryHub() = default;

v1::Policy TelemetryHub::EffectivePolicy(const gallery::Gallery& gallery) const {
  return impl_->EffectivePolicy(gallery);
}

absl::StatusOr<ThresholdDecision> TelemetryHub::Decide(
    const gallery::Gallery& gallery, const v1::SearchRequest& request) {
  return impl_->Decide(gallery, request);
}

absl::StatusOr<v1::CalibrationReport> TelemetryHub::Calibrate(
    std::shared_ptr<gallery::Gallery> gallery, SearchRunner* runner,
    const v1::CalibrateRequest& request) {
  return absl::UnimplementedError("calibration is not available yet");
}

absl::StatusOr<v1::CalibrationReport> TelemetryHub::GetCalibration(
    const gallery::Gallery& gallery, const v1::GetCalibrationRequest& request) {
  return absl::NotFoundError(
      absl::StrCat("gallery '", gallery.name(), "' has no calibration"));
}

void TelemetryHub::DescribeCalibration(const gallery::Gallery& gallery,
                                       bool* calibrated, bool* stale) const {
  *calibrated = false;
  *stale = false;
}

void TelemetryHub::ForgetGallery(const std::string& name) {}
void TelemetryHub::Record(const CallRecord& record) {}
void TelemetryHub::SetBackend(const std::string& backend,
                              const std::string& device) {}

}  // namespace candor::api
