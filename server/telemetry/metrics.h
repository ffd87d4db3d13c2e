// candor's Prometheus metrics: a prometheus-cpp registry, served as the
// text exposition on /metrics by GNU libmicrohttpd. (prometheus-cpp's own
// Exposer runs civetweb, whose worker threads get a fixed 100 KiB stack:
// in a process that also loads cuBLAS and OpenBLAS, their static TLS alone
// exceeds that and civetweb cannot start a thread.) Callers hold a
// Metrics* that may be null (metrics off) and check.
//
// Series of one gallery are removed with ForgetGallery / RetainGalleries,
// so a deleted gallery leaves nothing behind. Rates in [0, 1] end in
// _ratio. The process_* series (resident memory, CPU, fds, start time) are
// read from /proc at each scrape; prometheus-cpp has no process collector.
#ifndef CANDOR_SERVER_TELEMETRY_METRICS_H_
#define CANDOR_SERVER_TELEMETRY_METRICS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/telemetry/verdict.h"

namespace prometheus {
class Counter;
template <typename T>
class Family;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace candor::telemetry {

// A latency histogram that may start before the Metrics object that
// exports it (the gallery store's WAL fsyncs begin before the telemetry
// hub exists): shared by whoever observes and the Metrics given it.
// Thread-safe.
class SharedLatency {
 public:
  SharedLatency();
  ~SharedLatency();
  void Observe(double seconds);

 private:
  friend class Metrics;
  std::unique_ptr<prometheus::Histogram> histogram_;
};

class Metrics {
 public:
  struct Options {
    // host:port for HTTP /metrics (port 0 = any free port); "" = registry
    // only, no HTTP server.
    std::string listen_address;
    // Unused since the HTTP server runs one internal polling thread; kept
    // for configuration compatibility (must be >= 1).
    int http_threads = 2;
    // Open /metrics connections at once: more are closed on arrival, so
    // that idle clients cannot hold the process's fds.
    int max_connections = 32;
    // A connection idle this long (no request, or one not read) is closed.
    int connection_timeout_s = 10;
  };

  // Where a search spends its time (the whole call is
  // candor_request_duration_seconds): waiting for its batch, checking and
  // normalizing probes, the index call, building the response and report.
  enum class Stage { kQueue, kNormalize, kSearch, kRespond };
  static constexpr int kStages = 4;
  // The `stage` label of each, in Stage order.
  static const char* StageName(Stage stage);

  // InvalidArgument / Unavailable when the address cannot be served.
  static absl::StatusOr<std::unique_ptr<Metrics>> Create(const Options& options);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // candor_requests_total{rpc, code}.
  void CountRequest(const std::string& rpc, absl::StatusCode code);
  // candor_probes_total{gallery}.
  void CountProbes(const std::string& gallery, uint64_t probes);
  // candor_candidates_total{gallery, group}: candidates returned.
  void CountCandidates(const std::string& gallery, const std::string& group,
                       uint64_t candidates);
  // candor_request_duration_seconds{rpc}: receipt to response, any status.
  void ObserveRequestDuration(const std::string& rpc, double seconds);
  // candor_batch_probes: probes per index call after dynamic batching.
  void ObserveBatchProbes(int probes);
  // candor_gallery_entries{gallery}: live entries.
  void SetGalleryEntries(const std::string& gallery, uint64_t entries);
  // candor_policy_threshold{gallery}: the gallery's policy threshold.
  void SetPolicyThreshold(const std::string& gallery, double threshold);
  // candor_stage_latency_seconds{stage}.
  void ObserveLatency(Stage stage, double seconds);
  // candor_requested_threshold: thresholds searches used.
  void ObserveThreshold(float threshold);
  // candor_policy_verdicts_total{outcome}.
  void CountVerdict(VerdictOutcome outcome);
  // candor_policy_fpir_ratio{gallery, group}: FPIR at the gallery's policy
  // threshold (extrapolated when the calibration is stale).
  void SetPolicyFpir(const std::string& gallery, const std::string& group,
                     double fpir);
  // Drops the gallery's policy FPIR series (before publishing new ones).
  void ClearPolicyFpir(const std::string& gallery);
  // candor_backend_info{backend, device} = 1; replaces the previous one.
  void SetBackendInfo(const std::string& backend, const std::string& device);
  // candor_build_info{version, commit, blas, backend} = 1; replaces the
  // previous one.
  void SetBuildInfo(const std::string& version, const std::string& commit,
                    const std::string& blas, const std::string& backend);

  // Per-gallery gauges, refreshed at each scrape:
  // candor_gallery_memory_bytes{gallery, memory="host"|"device"},
  void SetGalleryMemory(const std::string& gallery, uint64_t host_bytes,
                        uint64_t device_bytes);
  // candor_calibration_age_seconds{gallery} (only for a calibrated gallery)
  // and candor_calibration_stale{gallery}: 1 when the calibration is stale
  // or missing (either way: calibrate), else 0.
  void SetCalibration(const std::string& gallery, bool calibrated,
                      double age_seconds, bool stale);
  // candor_erasure_backlog_entries{gallery}: removed entries whose vectors
  // are still in files on disk (the next compaction that succeeds erases
  // them; a backlog that keeps growing means erasure has stalled).
  void SetErasureBacklog(const std::string& gallery, uint64_t entries);
  // candor_gallery_bytes_per_entry{gallery, precision="fp32"|"bf16"}: host
  // bytes per live entry (0 while empty), to compare precisions.
  void SetGalleryBytesPerEntry(const std::string& gallery,
                               const std::string& precision, double bytes);
  // candor_compaction_failures_total{gallery}: automatic compactions that
  // failed (each also logged); `total` is the gallery's running count.
  void SetCompactionFailures(const std::string& gallery, uint64_t total);
  // Removes every series labelled with the gallery.
  void ForgetGallery(const std::string& gallery);
  // Removes the series of every gallery not in `live`.
  void RetainGalleries(const std::set<std::string>& live);
  // Removes the gallery's candidates series of groups not in `keep`
  // (cardinality cap: groups beyond the cap are counted as "other").
  void RetainGroups(const std::string& gallery,
                    const std::set<std::string>& keep);

  // candor_search_queue_requests / _probes: searches waiting for an index
  // call, and their probes.
  void SetQueueDepth(int64_t requests, int64_t probes);
  // candor_wal_fsync_seconds: exported from `latency`, which the gallery
  // store feeds.
  void SetWalFsyncLatency(std::shared_ptr<SharedLatency> latency);
  // Runs at the start of every RenderText, before the registry is read:
  // where the owner refreshes gauges read from elsewhere.
  void SetCollectHook(std::function<void()> hook);

  // candor_audit_write_failures_total: audit records that could not be
  // written (their calls failed UNAVAILABLE).
  void CountAuditWriteFailure();
  // candor_audit_checkpoint_seq: the audit chain's last checkpointed record.
  void SetAuditCheckpoint(uint64_t seq);

  // candor_recovery_dropped_records_total{gallery} and
  // candor_recovery_dropped_bytes_total{gallery}: torn final log records
  // recovery dropped at start-up (each also logged with file and offset).
  void CountRecoveryDropped(const std::string& gallery, uint64_t records,
                            uint64_t bytes);
  // candor_quarantined{kind}: what start-up found damaged and moved aside,
  // by kind ("gallery", "audit_log", "audit_checkpoint", "calibration").
  void SetQuarantined(const std::string& kind, uint64_t count);

  // The Prometheus text exposition of every metric, as /metrics serves it
  // (the collect hook runs first).
  std::string RenderText();
  // The bound HTTP port; 0 without HTTP.
  int http_port() const { return http_port_; }

 private:
  Metrics();

  std::shared_ptr<prometheus::Registry> registry_;
  // The libmicrohttpd daemon (MHD_Daemon*), null without HTTP.
  void* http_daemon_ = nullptr;
  int http_port_ = 0;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Counter>* probes_;
  prometheus::Family<prometheus::Counter>* candidates_;
  prometheus::Family<prometheus::Gauge>* policy_fpir_;
  prometheus::Family<prometheus::Histogram>* request_duration_;
  prometheus::Histogram* batch_probes_;
  prometheus::Family<prometheus::Gauge>* gallery_entries_;
  prometheus::Family<prometheus::Gauge>* policy_threshold_;
  prometheus::Family<prometheus::Gauge>* backend_info_;
  prometheus::Family<prometheus::Gauge>* build_info_;
  prometheus::Family<prometheus::Gauge>* gallery_memory_;
  prometheus::Family<prometheus::Gauge>* calibration_age_;
  prometheus::Family<prometheus::Gauge>* calibration_stale_;
  prometheus::Family<prometheus::Gauge>* erasure_backlog_;
  prometheus::Family<prometheus::Gauge>* gallery_bytes_per_entry_;
  prometheus::Family<prometheus::Counter>* compaction_failures_;
  prometheus::Gauge* queue_requests_;
  prometheus::Gauge* queue_probes_;
  std::array<prometheus::Histogram*, kStages> stage_latency_;
  prometheus::Histogram* threshold_;
  prometheus::Counter* audit_write_failures_;
  prometheus::Gauge* audit_checkpoint_seq_;
  prometheus::Family<prometheus::Counter>* recovery_dropped_records_;
  prometheus::Family<prometheus::Counter>* recovery_dropped_bytes_;
  prometheus::Family<prometheus::Gauge>* quarantined_;
  std::array<prometheus::Counter*, 4> verdicts_;
  absl::Mutex backend_mu_;
  prometheus::Gauge* backend_ ABSL_GUARDED_BY(backend_mu_) = nullptr;
  prometheus::Gauge* build_ ABSL_GUARDED_BY(backend_mu_) = nullptr;
  // Every per-gallery series, to remove them with their gallery.
  struct GallerySeries;
  absl::Mutex series_mu_;
  std::unique_ptr<GallerySeries> series_ ABSL_GUARDED_BY(series_mu_);
  absl::Mutex hook_mu_;
  std::function<void()> collect_hook_ ABSL_GUARDED_BY(hook_mu_);
  std::shared_ptr<SharedLatency> wal_fsync_ ABSL_GUARDED_BY(hook_mu_);
};

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_METRICS_H_
