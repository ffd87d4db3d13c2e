#include "server/telemetry/telemetry_units.h"

#include <utility>

namespace candor::telemetry {

absl::StatusOr<std::unique_ptr<TelemetryUnits>> TelemetryUnits::Open(
    const TelemetryOptions& options) {
  std::unique_ptr<TelemetryUnits> units(new TelemetryUnits());
  if (options.calibration_dir.empty()) {
    units->calibrations_ = std::make_unique<CalibrationStore>();
  } else {
    auto calibrations = CalibrationStore::Open(options.calibration_dir);
    if (!calibrations.ok()) return calibrations.status();
    units->calibrations_ = *std::move(calibrations);
  }
  // The registry always exists; HTTP only with an address.
  auto metrics = Metrics::Create(options.metrics);
  if (!metrics.ok()) return metrics.status();
  units->metrics_ = *std::move(metrics);
  units->observer_ = std::make_unique<MetricsObserver>(
      units->metrics_.get(), units->calibrations_.get(),
      options.metrics_max_groups);
  units->policy_ = std::make_unique<PolicyUnit>(
      options.policy, units->calibrations_.get(), units->observer_.get());
  units->calibrator_ = std::make_unique<Calibrator>(units->calibrations_.get(),
                                                    units->policy_.get());
  auto audit = AuditSink::Open(options.audit, units->observer_.get());
  if (!audit.ok()) return audit.status();
  units->audit_ = *std::move(audit);
  return units;
}

TelemetryUnits::~TelemetryUnits() {
  audit_.reset();
  metrics_.reset();
}

std::vector<QuarantineRecord> TelemetryUnits::Quarantined() const {
  std::vector<QuarantineRecord> out = audit_->Sealed();
  for (QuarantineRecord& q : calibrations_->Damaged()) {
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace candor::telemetry
