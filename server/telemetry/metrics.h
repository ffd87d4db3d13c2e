// candor's Prometheus metrics: a prometheus-cpp registry, served as the
// text exposition on /metrics by GNU libmicrohttpd. (prometheus-cpp's own
// Exposer runs civetweb, whose worker threads get a fixed 100 KiB stack:
// in a process that also loads cuBLAS and OpenBLAS, their static TLS alone
// exceeds that and civetweb cannot start a thread.) Callers hold a Metrics* that may be null (metrics off) and check.
#ifndef CANDOR_SERVER_TELEMETRY_METRICS_H_
#define CANDOR_SERVER_TELEMETRY_METRICS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

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

class Metrics {
 public:
  struct Options {
    // host:port for HTTP /metrics (port 0 = any free port); "" = registry
    // only, no HTTP server.
    std::string listen_address;
    // Unused since the HTTP server runs one internal polling thread; kept
    // for configuration compatibility (must be >= 1).
    int http_threads = 2;
  };

  // Where a request spends its time.
  enum class Stage { kQueue, kNormalize, kSearch, kTelemetry, kTotal };
  static constexpr int kStages = 5;

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
  // candor_policy_fpir{gallery, group}: FPIR at the gallery's policy
  // threshold (extrapolated when the calibration is stale).
  void SetPolicyFpir(const std::string& gallery, const std::string& group,
                     double fpir);
  // candor_backend_info{backend, device} = 1; replaces the previous one.
  void SetBackendInfo(const std::string& backend, const std::string& device);

  // candor_audit_write_failures_total: audit records that could not be
  // written (their calls failed UNAVAILABLE).
  void CountAuditWriteFailure();
  // candor_audit_checkpoint_seq: the audit chain's last checkpointed record.
  void SetAuditCheckpoint(uint64_t seq);

  // The Prometheus text exposition of every metric, as /metrics serves it.
  std::string RenderText() const;
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
  std::array<prometheus::Histogram*, kStages> stage_latency_;
  prometheus::Histogram* threshold_;
  prometheus::Counter* audit_write_failures_;
  prometheus::Gauge* audit_checkpoint_seq_;
  std::array<prometheus::Counter*, 4> verdicts_;
  absl::Mutex backend_mu_;
  prometheus::Gauge* backend_ ABSL_GUARDED_BY(backend_mu_) = nullptr;
};

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_METRICS_H_
