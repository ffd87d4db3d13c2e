// The router's side of "every answer says what its threshold costs": FPIR
// grows with the whole gallery, so calibrations describe the whole sharded
// gallery and live here, not on the shards. Holds them in memory and, when
// the data directory is writable, in <data_dir>/router-calibrations/ (a
// router pod usually has no volume: then they last until it restarts and
// Calibrate must run again through it).
#ifndef CANDOR_SERVER_ROUTER_ROUTER_TELEMETRY_H_
#define CANDOR_SERVER_ROUTER_ROUTER_TELEMETRY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "candor/v1/candor.pb.h"
#include "server/api/calibration_store.h"
#include "server/api/options.h"
#include "server/telemetry/calibration.h"
#include "server/telemetry/policy.h"

namespace candor::router {

struct RouterDecision {
  float threshold = 0.0f;
  // Verdict included (PASS, WARN or NO_POLICY; a REJECT is an error).
  v1::ThresholdReport report;
};

class RouterTelemetry {
 public:
  // `data_dir` empty: memory only.
  RouterTelemetry(const api::PolicyDefaults& policy,
                  const std::string& data_dir);

  // The router's policy (its flags; per-gallery overrides are not kept by
  // the router).
  const telemetry::Policy& policy() const { return policy_; }
  bool HasCalibration(const std::string& gallery) const;

  // The threshold (the request's, else the policy threshold), its report at
  // the whole gallery's current size and the policy verdict;
  // FailedPrecondition on a REJECT breach or when the policy needs a
  // calibration the gallery lacks.
  absl::StatusOr<RouterDecision> Decide(const std::string& gallery,
                                        uint64_t gallery_size_now,
                                        const v1::SearchRequest& request);

  // Keeps the calibration; a failed write is logged, not returned (the
  // router's disk is optional).
  void Store(const std::string& gallery, telemetry::Calibration calibration);

  // FailedPrecondition when the gallery has no calibration here.
  absl::StatusOr<v1::CalibrationReport> Report(
      const std::string& gallery, uint64_t gallery_size_now,
      const v1::GetCalibrationRequest& request) const;

  void Describe(const std::string& gallery, uint64_t gallery_size_now,
                bool* calibrated, bool* stale) const;
  void Forget(const std::string& gallery);

 private:
  const telemetry::Policy policy_;
  const std::unique_ptr<api::CalibrationStore> calibrations_;
};

}  // namespace candor::router

#endif  // CANDOR_SERVER_ROUTER_ROUTER_TELEMETRY_H_
