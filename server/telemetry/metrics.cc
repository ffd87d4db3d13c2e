#include "server/telemetry/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <exception>
#include <sstream>

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
  backend_info_ = &prometheus::BuildGauge()
                       .Name("candor_backend_info")
                       .Help("The index backend serving searches (value 1)")
                       .Register(*registry_);
}

Metrics::~Metrics() = default;

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Create(const Options& options) {
  std::unique_ptr<Metrics> metrics(new Metrics());
  if (options.listen_address.empty()) return metrics;
  if (options.http_threads < 1) {
    return absl::InvalidArgumentError("metrics http_threads must be >= 1");
  }
  try {
    metrics->exposer_ = std::make_unique<prometheus::Exposer>(
        options.listen_address, static_cast<size_t>(options.http_threads));
  } catch (const std::exception& e) {
    // civetweb throws when it cannot parse or bind the address.
    return absl::UnavailableError(absl::StrCat(
        "cannot serve metrics on ", options.listen_address, ": ", e.what()));
  }
  metrics->exposer_->RegisterCollectable(metrics->registry_);
  const std::vector<int> ports = metrics->exposer_->GetListeningPorts();
  metrics->http_port_ = ports.empty() ? 0 : ports.front();
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

void Metrics::ObserveThreshold(float threshold) { threshold_->Observe(threshold); }

void Metrics::CountVerdict(VerdictOutcome outcome) {
  verdicts_[static_cast<int>(outcome)]->Increment();
}

void Metrics::SetPolicyFpir(const std::string& gallery, const std::string& group,
                            double fpir) {
  policy_fpir_->Add({{"gallery", gallery}, {"group", group}}).Set(fpir);
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
