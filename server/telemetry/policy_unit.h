// The threshold decision, one implementation for a server and a router:
// the operator's policy floor merged with the gallery's override, the
// threshold resolved (the request's, else the policy's), its cost report at
// the gallery's current size, and the policy's verdict applied and counted.
// Also the calibration's report and description for GetCalibration and
// GetGallery, which read the same calibrations at the same size.
#ifndef CANDOR_SERVER_TELEMETRY_POLICY_UNIT_H_
#define CANDOR_SERVER_TELEMETRY_POLICY_UNIT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "candor/v1/candor.pb.h"
#include "server/telemetry/call_record.h"
#include "server/telemetry/calibration_store.h"
#include "server/telemetry/policy.h"

namespace candor::telemetry {

class MetricsObserver;

// A gallery as the decision sees it: the whole gallery's live size now
// (all shards for a router) and its stored policy override.
struct PolicyGallery {
  std::string name;
  uint64_t size = 0;
  Policy override_policy;
};

class PolicyUnit {
 public:
  struct Options {
    // The operator's policy flags: a floor a gallery may only tighten.
    Policy floor;
    // Ends the error of a search whose policy needs a calibration the
    // gallery lacks, and of GetCalibration without one.
    std::string how_to_calibrate = "run Calibrate first";
  };
  // Neither pointer is owned; both outlive the unit. `observer` may be null
  // (no metrics).
  PolicyUnit(Options options, const CalibrationStore* calibrations,
             MetricsObserver* observer);

  const Policy& floor() const { return options_.floor; }
  // The floor merged with the gallery's override.
  Policy Effective(const Policy& override_policy) const;
  // A gallery's override as CreateGallery or SetPolicy asks it:
  // InvalidArgument when malformed (NaN, max_fpir outside [0, 1],
  // max_disparity < 1), FailedPrecondition when it would loosen the floor.
  absl::Status CheckOverride(const Policy& override_policy) const;

  // The threshold a search runs at and its report; the verdict counted.
  // FailedPrecondition on a REJECT breach (the policy rejection error) or
  // when the policy needs a calibration the gallery lacks.
  absl::StatusOr<ThresholdDecision> Decide(const PolicyGallery& gallery,
                                           const v1::SearchRequest& request);

  // GetCalibration's answer; FailedPrecondition when there is none.
  absl::StatusOr<v1::CalibrationReport> Report(
      const PolicyGallery& gallery,
      const v1::GetCalibrationRequest& request) const;
  // Whether a calibration is stored, and whether it is stale.
  void Describe(const PolicyGallery& gallery, bool* calibrated,
                bool* stale) const;
  // Publishes the policy threshold's FPIR per group (after a calibration or
  // a policy change), when the policy gives a threshold.
  void Refresh(const PolicyGallery& gallery);

 private:
  const Options options_;
  const CalibrationStore* const calibrations_;
  MetricsObserver* const observer_;
};

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_POLICY_UNIT_H_
