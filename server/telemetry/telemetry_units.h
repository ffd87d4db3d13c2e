// The telemetry units one role runs, built and torn down in one place (the
// same for a server and a router): the calibration store, the metrics
// registry and its observer, the threshold decision, the calibrator and
// the audit sink. Holds them; decides nothing.
#ifndef CANDOR_SERVER_TELEMETRY_TELEMETRY_UNITS_H_
#define CANDOR_SERVER_TELEMETRY_TELEMETRY_UNITS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/common/quarantine.h"
#include "server/telemetry/audit_sink.h"
#include "server/telemetry/calibration_store.h"
#include "server/telemetry/calibrator.h"
#include "server/telemetry/metrics.h"
#include "server/telemetry/metrics_observer.h"
#include "server/telemetry/policy_unit.h"

namespace candor::telemetry {

struct TelemetryOptions {
  // Where calibrations are kept ("" = memory only).
  std::string calibration_dir;
  PolicyUnit::Options policy;
  Metrics::Options metrics;
  // --metrics_max_groups.
  int metrics_max_groups = 16;
  AuditSink::Options audit;
};

class TelemetryUnits {
 public:
  static absl::StatusOr<std::unique_ptr<TelemetryUnits>> Open(
      const TelemetryOptions& options);
  // The audit log first (its last callbacks count into the metrics), then
  // the registry (its HTTP thread runs the observer's collect hook).
  ~TelemetryUnits();

  CalibrationStore& calibrations() { return *calibrations_; }
  Metrics& metrics() { return *metrics_; }
  MetricsObserver& observer() { return *observer_; }
  PolicyUnit& policy() { return *policy_; }
  Calibrator& calibrator() { return *calibrator_; }
  AuditSink& audit() { return *audit_; }

  // Files start-up found damaged and sealed aside: the audit log or its
  // checkpoint, calibrations.
  std::vector<QuarantineRecord> Quarantined() const;

 private:
  TelemetryUnits() = default;

  std::unique_ptr<CalibrationStore> calibrations_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<MetricsObserver> observer_;
  std::unique_ptr<PolicyUnit> policy_;
  std::unique_ptr<Calibrator> calibrator_;
  std::unique_ptr<AuditSink> audit_;
};

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_TELEMETRY_UNITS_H_
