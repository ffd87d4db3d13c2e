#include "server/telemetry/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/client_metric.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace candor::telemetry {
namespace {

constexpr const char* kStageNames[Metrics::kStages] = {"queue", "normalize",
                                                       "search", "respond"};
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

// fsync of a log record: tens of microseconds on NVMe with a write cache,
// tens of milliseconds on a busy disk; 10 us .. about 5 s in steps of x2.
prometheus::Histogram::BucketBoundaries FsyncBuckets() {
  prometheus::Histogram::BucketBoundaries b;
  for (double s = 10e-6; s < 6.0; s *= 2) b.push_back(s);
  return b;
}

prometheus::MetricFamily Family(const std::string& name, const std::string& help,
                                prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

void AddValue(prometheus::MetricFamily* family, double value) {
  prometheus::ClientMetric m;
  if (family->type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  family->metric.push_back(m);
}

// The standard process_* series, read from /proc/self (Linux).
std::vector<prometheus::MetricFamily> ProcessFamilies() {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)),
                   std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold
  // spaces: state is field 3; utime 14, stime 15, starttime 22, vsize 23,
  // rss 24 (1-based, as proc(5) numbers them).
  const size_t close = stat.rfind(')');
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  if (close != std::string::npos && ticks > 0 && page > 0) {
    std::vector<std::string> f =
        absl::StrSplit(stat.substr(close + 2), ' ', absl::SkipEmpty());
    auto field = [&f](int n, double* out) {  // n: proc(5)'s number
      return n - 3 < static_cast<int>(f.size()) &&
             absl::SimpleAtod(f[n - 3], out);
    };
    double utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
    std::ifstream uptime_file("/proc/uptime");
    double uptime = 0;
    uptime_file >> uptime;
    if (field(14, &utime) && field(15, &stime)) {
      auto cpu = Family("process_cpu_seconds_total",
                        "User and system CPU time spent, seconds",
                        MetricType::Counter);
      AddValue(&cpu, (utime + stime) / ticks);
      out.push_back(cpu);
    }
    if (field(23, &vsize)) {
      auto v = Family("process_virtual_memory_bytes", "Virtual memory size",
                      MetricType::Gauge);
      AddValue(&v, vsize);
      out.push_back(v);
    }
    if (field(24, &rss)) {
      auto r = Family("process_resident_memory_bytes", "Resident memory size",
                      MetricType::Gauge);
      AddValue(&r, rss * page);
      out.push_back(r);
    }
    if (field(22, &start) && uptime > 0) {
      // starttime is in ticks since boot; boot = now - uptime.
      timespec now{};
      clock_gettime(CLOCK_REALTIME, &now);
      const double boot = now.tv_sec + now.tv_nsec * 1e-9 - uptime;
      auto t = Family("process_start_time_seconds",
                      "Start time of the process since the Unix epoch, seconds",
                      MetricType::Gauge);
      AddValue(&t, boot + start / ticks);
      out.push_back(t);
    }
  }
  if (DIR* dir = opendir("/proc/self/fd")) {
    int fds = 0;
    while (const dirent* e = readdir(dir)) {
      if (e->d_name[0] != '.') ++fds;
    }
    closedir(dir);
    auto open = Family("process_open_fds", "Open file descriptors",
                       MetricType::Gauge);
    AddValue(&open, fds - 1);  // not the one reading the directory
    out.push_back(open);
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    auto max = Family("process_max_fds", "Limit on open file descriptors",
                      MetricType::Gauge);
    AddValue(&max, static_cast<double>(limit.rlim_cur));
    out.push_back(max);
  }
  return out;
}

// Serves GET /metrics (the text exposition) and 404 for anything else.
MHD_Result HandleHttp(void* cls, MHD_Connection* connection, const char* url,
                      const char* method, const char* /*version*/,
                      const char* /*upload_data*/, size_t* /*upload_size*/,
                      void** /*request_state*/) {
  auto* metrics = static_cast<Metrics*>(cls);
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

SharedLatency::SharedLatency()
    : histogram_(std::make_unique<prometheus::Histogram>(FsyncBuckets())) {}
SharedLatency::~SharedLatency() = default;
void SharedLatency::Observe(double seconds) { histogram_->Observe(seconds); }

// Per-gallery series: (family, series) pairs by gallery name, and the
// candidates series by gallery and group.
struct Metrics::GallerySeries {
  struct Gauges {
    std::vector<std::pair<prometheus::Family<prometheus::Gauge>*,
                          prometheus::Gauge*>>
        list;
  };
  std::map<std::string, Gauges> gauges;
  std::map<std::string, prometheus::Counter*> probes;
  std::map<std::string, prometheus::Counter*> compaction_failures;
  std::map<std::string, std::map<std::string, prometheus::Counter*>> candidates;

  void AddGauge(const std::string& gallery,
                prometheus::Family<prometheus::Gauge>* family,
                prometheus::Gauge* gauge) {
    auto& list = gauges[gallery].list;
    for (const auto& [f, g] : list) {
      if (g == gauge) return;
    }
    list.emplace_back(family, gauge);
  }
};

const char* Metrics::StageName(Stage stage) {
  return kStageNames[static_cast<int>(stage)];
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      series_(std::make_unique<GallerySeries>()) {
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
                      .Name("candor_policy_fpir_ratio")
                      .Help("FPIR at the gallery's policy threshold, by group "
                            "(0..1; extrapolated when the calibration is stale)")
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
  recovery_dropped_records_ =
      &prometheus::BuildCounter()
           .Name("candor_recovery_dropped_records_total")
           .Help("Torn final log records recovery dropped at start-up, by "
                 "gallery (each logged with its file and offset)")
           .Register(*registry_);
  recovery_dropped_bytes_ =
      &prometheus::BuildCounter()
           .Name("candor_recovery_dropped_bytes_total")
           .Help("Bytes of the torn final log records recovery dropped at "
                 "start-up, by gallery")
           .Register(*registry_);
  quarantined_ = &prometheus::BuildGauge()
                      .Name("candor_quarantined")
                      .Help("What start-up found damaged and moved aside "
                            "(never erased), by kind: gallery, audit_log, "
                            "audit_checkpoint, calibration")
                      .Register(*registry_);
  backend_info_ = &prometheus::BuildGauge()
                       .Name("candor_backend_info")
                       .Help("The index backend serving searches (value 1)")
                       .Register(*registry_);
  build_info_ = &prometheus::BuildGauge()
                     .Name("candor_build_info")
                     .Help("The server's version, git commit, BLAS library "
                           "and index backend (value 1)")
                     .Register(*registry_);
  gallery_memory_ = &prometheus::BuildGauge()
                         .Name("candor_gallery_memory_bytes")
                         .Help("Memory a gallery holds (index and entry "
                               "table), by kind: host or device")
                         .Register(*registry_);
  calibration_age_ = &prometheus::BuildGauge()
                          .Name("candor_calibration_age_seconds")
                          .Help("Time since the gallery was last calibrated")
                          .Register(*registry_);
  calibration_stale_ =
      &prometheus::BuildGauge()
           .Name("candor_calibration_stale")
           .Help("1 when the gallery's calibration is stale (its size moved "
                 "over 10% since) or missing: calibrate again")
           .Register(*registry_);
  erasure_backlog_ =
      &prometheus::BuildGauge()
           .Name("candor_erasure_backlog_entries")
           .Help("Removed entries whose vectors are still in files on disk, "
                 "by gallery (erased by the next compaction that succeeds)")
           .Register(*registry_);
  gallery_bytes_per_entry_ =
      &prometheus::BuildGauge()
           .Name("candor_gallery_bytes_per_entry")
           .Help("Host bytes per live entry, by gallery and precision "
                 "(fp32 or bf16)")
           .Register(*registry_);
  compaction_failures_ =
      &prometheus::BuildCounter()
           .Name("candor_compaction_failures_total")
           .Help("Automatic compactions that failed, by gallery (each "
                 "logged; erasure waits for the next that succeeds)")
           .Register(*registry_);
  queue_requests_ = &prometheus::BuildGauge()
                         .Name("candor_search_queue_requests")
                         .Help("Searches waiting for an index call")
                         .Register(*registry_)
                         .Add({});
  queue_probes_ = &prometheus::BuildGauge()
                       .Name("candor_search_queue_probes")
                       .Help("Probes of the searches waiting for an index call")
                       .Register(*registry_)
                       .Add({});
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
      MHD_OPTION_CONNECTION_LIMIT,
      static_cast<unsigned int>(std::max(1, options.max_connections)),
      MHD_OPTION_CONNECTION_TIMEOUT,
      static_cast<unsigned int>(std::max(1, options.connection_timeout_s)),
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
  // Under the lock: ForgetGallery may not remove the series in between.
  absl::MutexLock lock(&series_mu_);
  prometheus::Counter* c = &probes_->Add({{"gallery", gallery}});
  series_->probes[gallery] = c;
  c->Increment(static_cast<double>(probes));
}

void Metrics::CountCandidates(const std::string& gallery,
                              const std::string& group, uint64_t candidates) {
  absl::MutexLock lock(&series_mu_);
  prometheus::Counter* c =
      &candidates_->Add({{"gallery", gallery}, {"group", group}});
  series_->candidates[gallery][group] = c;
  c->Increment(static_cast<double>(candidates));
}

void Metrics::ObserveLatency(Stage stage, double seconds) {
  stage_latency_[static_cast<int>(stage)]->Observe(seconds);
}

void Metrics::ObserveRequestDuration(const std::string& rpc, double seconds) {
  request_duration_->Add({{"rpc", rpc}}, LatencyBuckets()).Observe(seconds);
}

void Metrics::ObserveBatchProbes(int probes) { batch_probes_->Observe(probes); }

void Metrics::SetGalleryEntries(const std::string& gallery, uint64_t entries) {
  absl::MutexLock lock(&series_mu_);
  prometheus::Gauge* g = &gallery_entries_->Add({{"gallery", gallery}});
  g->Set(static_cast<double>(entries));
  series_->AddGauge(gallery, gallery_entries_, g);
}

void Metrics::SetPolicyThreshold(const std::string& gallery, double threshold) {
  absl::MutexLock lock(&series_mu_);
  prometheus::Gauge* g = &policy_threshold_->Add({{"gallery", gallery}});
  g->Set(threshold);
  series_->AddGauge(gallery, policy_threshold_, g);
}

void Metrics::SetGalleryMemory(const std::string& gallery, uint64_t host_bytes,
                               uint64_t device_bytes) {
  absl::MutexLock lock(&series_mu_);
  prometheus::Gauge* host =
      &gallery_memory_->Add({{"gallery", gallery}, {"memory", "host"}});
  prometheus::Gauge* device =
      &gallery_memory_->Add({{"gallery", gallery}, {"memory", "device"}});
  host->Set(static_cast<double>(host_bytes));
  device->Set(static_cast<double>(device_bytes));
  series_->AddGauge(gallery, gallery_memory_, host);
  series_->AddGauge(gallery, gallery_memory_, device);
}

void Metrics::SetCalibration(const std::string& gallery, bool calibrated,
                             double age_seconds, bool stale) {
  absl::MutexLock lock(&series_mu_);
  prometheus::Gauge* s = &calibration_stale_->Add({{"gallery", gallery}});
  s->Set(stale || !calibrated ? 1 : 0);
  series_->AddGauge(gallery, calibration_stale_, s);
  auto& list = series_->gauges[gallery].list;
  if (calibrated) {
    prometheus::Gauge* a = &calibration_age_->Add({{"gallery", gallery}});
    a->Set(age_seconds);
    series_->AddGauge(gallery, calibration_age_, a);
  } else {
    for (auto it = list.begin(); it != list.end(); ++it) {
      if (it->first == calibration_age_) {
        calibration_age_->Remove(it->second);
        list.erase(it);
        break;
      }
    }
  }
}

void Metrics::SetErasureBacklog(const std::string& gallery,
                                uint64_t entries) {
  absl::MutexLock lock(&series_mu_);
  prometheus::Gauge* g = &erasure_backlog_->Add({{"gallery", gallery}});
  g->Set(static_cast<double>(entries));
  series_->AddGauge(gallery, erasure_backlog_, g);
}

void Metrics::SetGalleryBytesPerEntry(const std::string& gallery,
                                      const std::string& precision,
                                      double bytes) {
  absl::MutexLock lock(&series_mu_);
  prometheus::Gauge* g = &gallery_bytes_per_entry_->Add(
      {{"gallery", gallery}, {"precision", precision}});
  g->Set(bytes);
  series_->AddGauge(gallery, gallery_bytes_per_entry_, g);
}

void Metrics::SetCompactionFailures(const std::string& gallery,
                                    uint64_t total) {
  absl::MutexLock lock(&series_mu_);
  prometheus::Counter* c = &compaction_failures_->Add({{"gallery", gallery}});
  series_->compaction_failures[gallery] = c;
  // The gallery counts; the counter follows it (a re-created gallery
  // starts again at 0 under a new series).
  const double delta = static_cast<double>(total) - c->Value();
  if (delta > 0) c->Increment(delta);
}

void Metrics::ForgetGallery(const std::string& gallery) {
  absl::MutexLock lock(&series_mu_);
  if (auto it = series_->compaction_failures.find(gallery);
      it != series_->compaction_failures.end()) {
    compaction_failures_->Remove(it->second);
    series_->compaction_failures.erase(it);
  }
  if (auto it = series_->gauges.find(gallery); it != series_->gauges.end()) {
    for (const auto& [family, gauge] : it->second.list) family->Remove(gauge);
    series_->gauges.erase(it);
  }
  if (auto it = series_->probes.find(gallery); it != series_->probes.end()) {
    probes_->Remove(it->second);
    series_->probes.erase(it);
  }
  if (auto it = series_->candidates.find(gallery);
      it != series_->candidates.end()) {
    for (const auto& [group, counter] : it->second) candidates_->Remove(counter);
    series_->candidates.erase(it);
  }
}

void Metrics::RetainGalleries(const std::set<std::string>& live) {
  std::set<std::string> gone;
  {
    absl::MutexLock lock(&series_mu_);
    for (const auto& [name, unused] : series_->gauges) {
      if (!live.count(name)) gone.insert(name);
    }
    for (const auto& [name, unused] : series_->probes) {
      if (!live.count(name)) gone.insert(name);
    }
    for (const auto& [name, unused] : series_->candidates) {
      if (!live.count(name)) gone.insert(name);
    }
  }
  for (const std::string& name : gone) ForgetGallery(name);
}

void Metrics::RetainGroups(const std::string& gallery,
                           const std::set<std::string>& keep) {
  absl::MutexLock lock(&series_mu_);
  auto it = series_->candidates.find(gallery);
  if (it == series_->candidates.end()) return;
  for (auto g = it->second.begin(); g != it->second.end();) {
    if (keep.count(g->first)) {
      ++g;
      continue;
    }
    candidates_->Remove(g->second);
    g = it->second.erase(g);
  }
}

void Metrics::SetQueueDepth(int64_t requests, int64_t probes) {
  queue_requests_->Set(static_cast<double>(requests));
  queue_probes_->Set(static_cast<double>(probes));
}

void Metrics::SetWalFsyncLatency(std::shared_ptr<SharedLatency> latency) {
  absl::MutexLock lock(&hook_mu_);
  wal_fsync_ = std::move(latency);
}

void Metrics::SetCollectHook(std::function<void()> hook) {
  absl::MutexLock lock(&hook_mu_);
  collect_hook_ = std::move(hook);
}

void Metrics::ObserveThreshold(float threshold) { threshold_->Observe(threshold); }

void Metrics::CountVerdict(VerdictOutcome outcome) {
  verdicts_[static_cast<int>(outcome)]->Increment();
}

void Metrics::SetPolicyFpir(const std::string& gallery, const std::string& group,
                            double fpir) {
  absl::MutexLock lock(&series_mu_);
  prometheus::Gauge* g =
      &policy_fpir_->Add({{"gallery", gallery}, {"group", group}});
  g->Set(fpir);
  series_->AddGauge(gallery, policy_fpir_, g);
}

void Metrics::ClearPolicyFpir(const std::string& gallery) {
  absl::MutexLock lock(&series_mu_);
  auto it = series_->gauges.find(gallery);
  if (it == series_->gauges.end()) return;
  auto& list = it->second.list;
  for (auto g = list.begin(); g != list.end();) {
    if (g->first == policy_fpir_) {
      policy_fpir_->Remove(g->second);
      g = list.erase(g);
    } else {
      ++g;
    }
  }
}

void Metrics::CountAuditWriteFailure() { audit_write_failures_->Increment(); }

void Metrics::SetAuditCheckpoint(uint64_t seq) {
  audit_checkpoint_seq_->Set(static_cast<double>(seq));
}

void Metrics::CountRecoveryDropped(const std::string& gallery,
                                   uint64_t records, uint64_t bytes) {
  recovery_dropped_records_->Add({{"gallery", gallery}})
      .Increment(static_cast<double>(records));
  recovery_dropped_bytes_->Add({{"gallery", gallery}})
      .Increment(static_cast<double>(bytes));
}

void Metrics::SetQuarantined(const std::string& kind, uint64_t count) {
  quarantined_->Add({{"kind", kind}}).Set(static_cast<double>(count));
}

void Metrics::SetBackendInfo(const std::string& backend, const std::string& device) {
  absl::MutexLock lock(&backend_mu_);
  if (backend_ != nullptr) backend_info_->Remove(backend_);
  backend_ = &backend_info_->Add({{"backend", backend}, {"device", device}});
  backend_->Set(1);
}

void Metrics::SetBuildInfo(const std::string& version, const std::string& commit,
                           const std::string& blas, const std::string& backend) {
  absl::MutexLock lock(&backend_mu_);
  if (build_ != nullptr) build_info_->Remove(build_);
  build_ = &build_info_->Add({{"version", version},
                              {"commit", commit},
                              {"blas", blas},
                              {"backend", backend}});
  build_->Set(1);
}

std::string Metrics::RenderText() {
  std::function<void()> hook;
  std::shared_ptr<SharedLatency> wal_fsync;
  {
    absl::MutexLock lock(&hook_mu_);
    hook = collect_hook_;
    wal_fsync = wal_fsync_;
  }
  if (hook) hook();
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  if (wal_fsync) {
    auto f = Family("candor_wal_fsync_seconds",
                    "Time of one write-ahead log fsync (group commit: one "
                    "covers every write waiting)",
                    prometheus::MetricType::Histogram);
    f.metric.push_back(wal_fsync->histogram_->Collect());
    families.push_back(std::move(f));
  }
  for (auto& f : ProcessFamilies()) families.push_back(std::move(f));
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace candor::telemetry
