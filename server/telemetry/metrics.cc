#include "server/telemetry/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <cstring>
#include <exception>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace candor::telemetry {
namespace {

constexpr const char* kStageNames[Metrics::kStages] = {
    "queue", "normalize", "search", "telemetry", "total"};
constexpr VerdictOutcome kOutcomes[] = {
    VerdictOutcome::kPass, VerdictOutcome::kWarn, VerdictOutcome::kReject,
    VerdictOutcome::kNoPolicy};

// 50 us .. about 13 s in steps of x2: a batched GPU search is well under a
// millisecond, a queued CPU batch at 100k x 512 takes hundreds.
prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  prometheus::Histogram::BucketBoundaries b;
  for (double s = 50e-6; s < 15.0; s *= 2) b.push_back(s);
  return b;
}

// Cosine thresholds: -1 .. 1 in steps of 0.05, the calibration grid.
prometheus::Histogram::BucketBoundaries ThresholdBuckets() {
  prometheus::Histogram::BucketBoundaries b;
  for (int i = -20; i <= 20; ++i) b.push_back(i / 20.0);
  return b;
}

// Probes per index call: 1 .. 4096 in powers of two.
prometheus::Histogram::BucketBoundaries BatchBuckets() {
  prometheus::Histogram::BucketBoundaries b;
  for (double n = 1; n <= 4096; n *= 2) b.push_back(n);
  return b;
}

// Serves GET /metrics (the text exposition) and 404 for anything else.
MHD_Result HandleHttp(void* cls, MHD_Connection* connection, const char* url,
                      const char* method, const char* /*version*/,
                      const char* /*upload_data*/, size_t* /*upload_size*/,
                      void** /*request_state*/) {
  const auto* metrics = static_cast<const Metrics*>(cls);
  const bool found = std::strcmp(url, "/metrics") == 0;
  const std::string body = found ? metrics->RenderText() : "not found\n";
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(response, "Content-Type",
                          "text/plain; version=0.0.4; charset=utf-8");
  const MHD_Result result = MHD_queue_response(
      connection, found && std::strcmp(method, "GET") == 0 ? MHD_HTTP_OK
                                                          : MHD_HTTP_NOT_FOUND,
      response);
  MHD_destroy_response(response);
  return result;
}

// "host:port" with an IPv4 host; port 0 = any free port.
absl::StatusOr<sockaddr_in> ParseAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  int port = -1;
  if (colon == std::string::npos ||
      inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr) != 1 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics address '", address, "': expected IPv4-host:port"));
  }
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("candor_requests_total")
                   .Help("RPCs answered, by method and status code")
                   .Register(*registry_);
  probes_ = &prometheus::BuildCounter()
                 .Name("candor_probes_total")
                 .Help("Probes searched, by gallery")
                 .Register(*registry_);
  candidates_ = &prometheus::BuildCounter()
                     .Name("candor_candidates_total")
                     .Help("Candidates returned, by gallery and candidate group")
                     .Register(*registry_);
  auto& latency = prometheus::BuildHistogram()
                      .Name("candor_stage_latency_seconds")
                      .Help("Time a request spends in each stage")
                      .Register(*registry_);
  for (int i = 0; i < kStages; ++i) {
    stage_latency_[i] = &latency.Add({{"stage", kStageNames[i]}}, LatencyBuckets());
  }
  threshold_ = &prometheus::BuildHistogram()
                    .Name("candor_requested_threshold")
                    .Help("Similarity thresholds searches ran at")
                    .Register(*registry_)
                    .Add({}, ThresholdBuckets());
  auto& verdicts = prometheus::BuildCounter()
                       .Name("candor_policy_verdicts_total")
                       .Help("Policy verdicts on requests, by outcome")
                       .Register(*registry_);
  for (VerdictOutcome o : kOutcomes) {
    verdicts_[static_cast<int>(o)] =
        &verdicts.Add({{"outcome", VerdictOutcomeName(o)}});
  }
  policy_fpir_ = &prometheus::BuildGauge()
                      .Name("candor_policy_fpir")
                      .Help("FPIR at the gallery's policy threshold, by group")
                      .Register(*registry_);
  request_duration_ = &prometheus::BuildHistogram()
                           .Name("candor_request_duration_seconds")
                           .Help("Time from receipt to response, by method")
                           .Register(*registry_);
  batch_probes_ = &prometheus::BuildHistogram()
                       .Name("candor_batch_probes")
                       .Help("Probes per index call after dynamic batching")
                       .Register(*registry_)
                       .Add({}, BatchBuckets());
  gallery_entries_ = &prometheus::BuildGauge()
                          .Name("candor_gallery_entries")
                          .Help("Live entries, by gallery")
                          .Register(*registry_);
  policy_threshold_ = &prometheus::BuildGauge()
                           .Name("candor_policy_threshold")
                           .Help("The gallery's policy threshold (every group "
                                 "under max_fpir)")
                           .Register(*registry_);
  audit_write_failures_ =
      &prometheus::BuildCounter()
           .Name("candor_audit_write_failures_total")
           .Help("Audit records that could not be written; each one's call "
                 "failed UNAVAILABLE")
           .Register(*registry_)
           .Add({});
  audit_checkpoint_seq_ =
      &prometheus::BuildGauge()
           .Name("candor_audit_checkpoint_seq")
           .Help("Sequence number of the audit chain's last checkpoint")
           .Register(*registry_)
           .Add({});
  backend_info_ = &prometheus::BuildGauge()
                       .Name("candor_backend_info")
                       .Help("The index backend serving searches (value 1)")
                       .Register(*registry_);
}

Metrics::~Metrics() {
  if (http_daemon_ != nullptr) {
    MHD_stop_daemon(static_cast<MHD_Daemon*>(http_daemon_));
  }
}

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Create(const Options& options) {
  std::unique_ptr<Metrics> metrics(new Metrics());
  if (options.listen_address.empty()) return metrics;
  if (options.http_threads < 1) {
    return absl::InvalidArgumentError("metrics http_threads must be >= 1");
  }
  auto addr = ParseAddress(options.listen_address);
  if (!addr.ok()) return addr.status();
  MHD_Daemon* daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, nullptr, nullptr,
      &HandleHttp, metrics.get(), MHD_OPTION_SOCK_ADDR, &*addr,
      MHD_OPTION_END);
  if (daemon == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot serve metrics on ", options.listen_address,
        " (address in use or not local?)"));
  }
  metrics->http_daemon_ = daemon;
  const MHD_DaemonInfo* info =
      MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
  metrics->http_port_ = info != nullptr ? info->port : 0;
  return metrics;
}

void Metrics::CountRequest(const std::string& rpc, absl::StatusCode code) {
  requests_->Add({{"rpc", rpc}, {"code", absl::StatusCodeToString(code)}})
      .Increment();
}

void Metrics::CountProbes(const std::string& gallery, uint64_t probes) {
  probes_->Add({{"gallery", gallery}}).Increment(static_cast<double>(probes));
}

void Metrics::CountCandidates(const std::string& gallery,
                              const std::string& group, uint64_t candidates) {
  candidates_->Add({{"gallery", gallery}, {"group", group}})
      .Increment(static_cast<double>(candidates));
}

void Metrics::ObserveLatency(Stage stage, double seconds) {
  stage_latency_[static_cast<int>(stage)]->Observe(seconds);
}

void Metrics::ObserveRequestDuration(const std::string& rpc, double seconds) {
  request_duration_->Add({{"rpc", rpc}}, LatencyBuckets()).Observe(seconds);
}

void Metrics::ObserveBatchProbes(int probes) { batch_probes_->Observe(probes); }

void Metrics::SetGalleryEntries(const std::string& gallery, uint64_t entries) {
  gallery_entries_->Add({{"gallery", gallery}}).Set(static_cast<double>(entries));
}

void Metrics::SetPolicyThreshold(const std::string& gallery, double threshold) {
  policy_threshold_->Add({{"gallery", gallery}}).Set(threshold);
}

void Metrics::ObserveThreshold(float threshold) { threshold_->Observe(threshold); }

void Metrics::CountVerdict(VerdictOutcome outcome) {
  verdicts_[static_cast<int>(outcome)]->Increment();
}

void Metrics::SetPolicyFpir(const std::string& gallery, const std::string& group,
                            double fpir) {
  policy_fpir_->Add({{"gallery", gallery}, {"group", group}}).Set(fpir);
}

void Metrics::CountAuditWriteFailure() { audit_write_failures_->Increment(); }

void Metrics::SetAuditCheckpoint(uint64_t seq) {
  audit_checkpoint_seq_->Set(static_cast<double>(seq));
}

void Metrics::SetBackendInfo(const std::string& backend, const std::string& device) {
  absl::MutexLock lock(&backend_mu_);
  if (backend_ != nullptr) backend_info_->Remove(backend_);
  backend_ = &backend_info_->Add({{"backend", backend}, {"device", device}});
  backend_->Set(1);
}

std::string Metrics::RenderText() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace candor::telemetry
