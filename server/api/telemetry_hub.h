// Everything the API layer asks of telemetry: the threshold a search uses
// and what it costs (calibrations, policy), plus metrics and the audit log.
// Owns per-gallery calibrations (kept in <data_dir>/calibrations/).
#ifndef CANDOR_SERVER_API_TELEMETRY_HUB_H_
#define CANDOR_SERVER_API_TELEMETRY_HUB_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "candor/v1/candor.pb.h"
#include "server/api/calibration_search.h"
#include "server/api/options.h"
#include "server/api/search_runner.h"
#include "server/batching/batcher_options.h"
#include "server/gallery/gallery.h"
#include "server/gallery/gallery_store.h"
#include "server/security/identity.h"
#include "server/telemetry/audit_chain.h"
#include "server/telemetry/metrics.h"
#include "server/telemetry/policy.h"
#include "server/telemetry/verdict.h"

namespace candor::api {

// The threshold a search runs at, decided before it runs.
struct ThresholdDecision {
  float threshold = 0.0f;
  v1::ThresholdReport::Source source = v1::ThresholdReport::REQUEST;
  // The cost report at that threshold, verdict included (WARN or PASS; a
  // REJECT never gets here, it is the error instead). The search moves it
  // into its response.
  v1::ThresholdReport report;
  // The same verdict, for the audit log.
  telemetry::Verdict verdict;
};

// What the audit log and metrics learn of one finished RPC.
struct CallRecord {
  std::string rpc;  // the method's short name: "Search", "SetPolicy", ...
  security::Caller caller;
  std::string purpose;
  std::string gallery;
  uint64_t gallery_version = 0;
  absl::Time start;
  absl::Time end;
  absl::Status status;
  int probes = 0;
  // Search only.
  const v1::SearchRequest* search_request = nullptr;
  const v1::SearchResponse* search_response = nullptr;
  const ThresholdDecision* decision = nullptr;
  absl::Duration queue_time;
  // The check alone where the index normalizes on the device (its work is
  // then part of search_time).
  absl::Duration normalize_time;
  absl::Duration search_time;
  absl::Duration telemetry_time;
  // Enroll / Remove: the entry ids touched, and the gallery's size after
  // (-1 when unknown).
  std::vector<uint64_t> entry_ids;
  int64_t gallery_size = -1;
  // What else the call touched, for the audit record: counts, the policy
  // before and after a SetPolicy, ... Never an embedding.
  telemetry::AuditJson details = telemetry::AuditJson::object();
};

// The metrics registry's options from the server's: the /metrics address,
// its connection cap and idle timeout (both roles).
telemetry::Metrics::Options MetricsOptionsFor(const ServerOptions& options);

class TelemetryHub {
 public:
  static absl::StatusOr<std::unique_ptr<TelemetryHub>> Create(
      const ServerOptions& options);
  ~TelemetryHub();

  // The server policy merged with the gallery's override.
  v1::Policy EffectivePolicy(const gallery::Gallery& gallery) const;

  // Resolves the threshold (request, else the policy threshold), builds its
  // report and applies the policy: FailedPrecondition on a REJECT breach or
  // when the policy needs a calibration the gallery lacks.
  absl::StatusOr<ThresholdDecision> Decide(const gallery::Gallery& gallery,
                                           const v1::SearchRequest& request);

  // Calibrate RPC: searches the set (labeled or self-audit) through `runner`
  // and stores the calibration. Stops between chunks of searches, storing
  // nothing, with DEADLINE_EXCEEDED or CANCELLED when `limits` says the
  // caller is gone.
  absl::StatusOr<v1::CalibrationReport> Calibrate(
      std::shared_ptr<gallery::Gallery> gallery, SearchRunner* runner,
      const v1::CalibrateRequest& request, const CallLimits& limits);
  absl::StatusOr<v1::CalibrationReport> GetCalibration(
      const gallery::Gallery& gallery, const v1::GetCalibrationRequest& request);
  // Whether a calibration is stored, and whether it is stale.
  void DescribeCalibration(const gallery::Gallery& gallery, bool* calibrated,
                           bool* stale) const;
  // Drops the gallery's calibration (gallery deleted).
  void ForgetGallery(const std::string& name);

  // Metrics and the audit record of a finished call. The record is
  // appended off this thread (group commit); `done` runs once it is
  // durable, with OK, or with Unavailable when it could not be written:
  // the call must then fail and return nothing (the log fails closed).
  // `record` is read before Record returns.
  void Record(const CallRecord& record, std::function<void(absl::Status)> done);
  // The server's policy flags (the floor a gallery may only tighten).
  const telemetry::Policy& policy_floor() const;
  // Also sets candor_build_info (version, commit, BLAS, backend).
  void SetBackend(const std::string& backend, const std::string& device);
  // Feeds candor_batch_probes; owned by the hub, lives as long as it.
  batching::BatchObserver* batch_observer();
  // Where each scrape reads the per-gallery gauges (entries, memory,
  // calibration age and staleness: every gallery has them from start-up),
  // the search queue and the WAL fsync times the store's galleries record
  // into `wal_fsync` (may be null). Not owned; both outlive the hub's use:
  // call once, after the store and runner exist.
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
  class Impl;
  explicit TelemetryHub(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_TELEMETRY_HUB_H_
