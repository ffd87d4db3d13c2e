// The server's wiring of the telemetry units (server/telemetry/
// telemetry_units.h), which a router runs too: each call maps a gallery of
// this server to what the units take (its name, size and stored policy
// override; its searches and sample for a calibration) and hands over.
// Calibrations are kept in <data_dir>/calibrations/.
#ifndef CANDOR_SERVER_API_TELEMETRY_HUB_H_
#define CANDOR_SERVER_API_TELEMETRY_HUB_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "candor/v1/candor.pb.h"
#include "server/api/options.h"
#include "server/api/search_runner.h"
#include "server/batching/batcher_options.h"
#include "server/edge/telemetry_options.h"
#include "server/gallery/gallery.h"
#include "server/gallery/gallery_store.h"
#include "server/telemetry/call_record.h"
#include "server/telemetry/calibrator.h"
#include "server/telemetry/metrics.h"
#include "server/telemetry/policy.h"
#include "server/telemetry/telemetry_units.h"

namespace candor::api {

using CallLimits = telemetry::CallLimits;
using CallRecord = telemetry::CallRecord;
using ThresholdDecision = telemetry::ThresholdDecision;

class TelemetryHub {
 public:
  static absl::StatusOr<std::unique_ptr<TelemetryHub>> Create(
      const ServerOptions& options);
  ~TelemetryHub();

  // The server policy merged with the gallery's override.
  v1::Policy EffectivePolicy(const gallery::Gallery& gallery) const;
  // telemetry::PolicyUnit::Decide for the gallery as it is now.
  absl::StatusOr<ThresholdDecision> Decide(const gallery::Gallery& gallery,
                                           const v1::SearchRequest& request);
  // telemetry::Calibrator::Calibrate over the gallery, searched through
  // `runner`.
  absl::StatusOr<v1::CalibrationReport> Calibrate(
      std::shared_ptr<gallery::Gallery> gallery, SearchRunner* runner,
      const v1::CalibrateRequest& request, const CallLimits& limits);
  absl::StatusOr<v1::CalibrationReport> GetCalibration(
      const gallery::Gallery& gallery, const v1::GetCalibrationRequest& request);
  // Whether a calibration is stored, and whether it is stale.
  void DescribeCalibration(const gallery::Gallery& gallery, bool* calibrated,
                           bool* stale) const;
  // Drops the gallery's calibration and series (gallery deleted).
  void ForgetGallery(const std::string& name);
  // telemetry::AuditSink::Record.
  void Record(const CallRecord& record, std::function<void(absl::Status)> done);
  // telemetry::PolicyUnit::CheckOverride.
  absl::Status CheckPolicyOverride(const v1::Policy& policy) const;
  // The server's policy flags (the floor a gallery may only tighten).
  const telemetry::Policy& policy_floor() const;
  // Also sets candor_build_info (version, commit, BLAS, backend).
  void SetBackend(const std::string& backend, const std::string& device);
  // Feeds candor_batch_probes; lives as long as the hub.
  batching::BatchObserver* batch_observer();
  // Where each scrape reads the per-gallery gauges, the search queue and
  // the WAL fsync times (`wal_fsync` may be null). Not owned; both outlive
  // the hub's use: call once, after the store and runner exist.
  void Attach(gallery::GalleryStore* store, SearchRunner* runner,
              std::shared_ptr<telemetry::SharedLatency> wal_fsync);
  // Forgets the store and runner (before they are destroyed); waits for a
  // scrape that is reading them.
  void Detach();
  // Everything start-up found damaged and moved aside, never erased:
  // galleries the store quarantined, a sealed audit log or checkpoint,
  // damaged calibration files (also counted in candor_quarantined{kind}).
  std::vector<gallery::QuarantineRecord> Quarantined() const;

 private:
  TelemetryHub(const ServerOptions& options,
               std::unique_ptr<telemetry::TelemetryUnits> units)
      : limits_(options.limits), units_(std::move(units)) {}

  const LimitOptions limits_;
  const std::unique_ptr<telemetry::TelemetryUnits> units_;
  mutable absl::Mutex store_mu_;
  gallery::GalleryStore* store_ ABSL_GUARDED_BY(store_mu_) = nullptr;
};

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_TELEMETRY_HUB_H_
