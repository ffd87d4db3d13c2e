// The operator's policy on thresholds: what it allows, what it asks for when
// a request names no threshold, and its verdict on a request.
#ifndef CANDOR_SERVER_TELEMETRY_POLICY_H_
#define CANDOR_SERVER_TELEMETRY_POLICY_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/telemetry/calibration.h"
#include "server/telemetry/report.h"
#include "server/telemetry/verdict.h"

namespace candor::telemetry {

enum class PolicyAction {
  kUnspecified,  // inherit; after Merge it still acts as kReject
  kReject,       // FAILED_PRECONDITION with the numbers
  kWarn,         // answer, with the breach in the report and metrics
};

// Mirrors candor.v1.Policy. Unset fields do not constrain.
struct Policy {
  std::optional<float> min_threshold;
  std::optional<double> max_fpir;
  std::optional<double> max_disparity;
  PolicyAction action = PolicyAction::kUnspecified;
};

// InvalidArgument unless min_threshold lies in [-1, 1], max_fpir in [0, 1]
// and max_disparity >= 1.
absl::Status ValidatePolicy(const Policy& policy);

// The server's policy is a floor: the gallery's override applies only where
// it is stricter (a higher min_threshold, a lower max_fpir or
// max_disparity, reject over warn), so a floor raised after the override
// was stored still holds.
Policy Merge(const Policy& server_default, const Policy& override_policy);

// FailedPrecondition naming the server flag (--min_threshold, --max_fpir,
// --max_disparity, --policy_action) that `override_policy` would loosen;
// OK when it only tightens `server_floor` or leaves fields unset.
absl::Status CheckTightens(const Policy& server_floor,
                           const Policy& override_policy);

// Whether the policy constrains anything (an action alone does not).
bool HasConstraint(const Policy& policy);

// The policy's verdict on a request answered at `threshold`. `report` is the
// threshold report at that threshold, or nullptr when the gallery has no
// calibration (then max_fpir and max_disparity are breaches: they cannot be
// checked). When the calibration is stale, max_fpir is checked against the
// FPIR extrapolated to the current gallery size.
Verdict Evaluate(const Policy& policy, float threshold,
                 const ThresholdReport* report);

// The threshold a request without one gets: the lowest T that holds every
// group under max_fpir at the current gallery size, raised to min_threshold.
// FailedPrecondition when the policy needs a calibration the gallery lacks,
// when no T in [-1, 1] meets max_fpir, or when the policy sets neither
// max_fpir nor min_threshold (there is no threshold to give, and candor
// never picks a silent constant).
absl::StatusOr<float> PolicyThreshold(const Policy& policy,
                                      const Calibration* calibration,
                                      std::string_view gallery,
                                      uint64_t gallery_size_now);

// The threshold a search runs at and what it costs: the request's threshold
// when it names one, else PolicyThreshold; the report at that threshold and
// `now`, with the policy's verdict. A kReject verdict is returned in the
// report, not as an error (callers count it, then ToRejectError). Errors:
// FailedPrecondition when the policy needs a calibration the gallery lacks
// (the message ends with `how_to_calibrate`), or PolicyThreshold's.
absl::StatusOr<ThresholdReport> DecideThreshold(
    const Policy& policy, const Calibration* calibration,
    const GalleryNow& now, const std::string& gallery,
    std::optional<float> requested_threshold,
    const std::string& how_to_calibrate);

// FailedPrecondition carrying every violation, with a kPolicyRejectPayload
// payload (a serialized google.rpc.ErrorInfo, reason "POLICY_REJECT"); OK
// unless the verdict is kReject. Only this error is a policy rejection: a
// missing calibration or gallery is a FailedPrecondition without it.
absl::Status ToRejectError(const Verdict& verdict);
bool IsPolicyRejection(const absl::Status& status);

// The payload's type URL: gRPC's status details carry it as an Any.
inline constexpr char kErrorInfoTypeUrl[] =
    "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr char kPolicyRejectReason[] = "POLICY_REJECT";
inline constexpr char kErrorDomain[] = "candor.dev";

// A small JSON text, stored as an opaque per-gallery blob.
std::string PolicyToJson(const Policy& policy);
absl::StatusOr<Policy> PolicyFromJson(std::string_view json);

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_POLICY_H_
