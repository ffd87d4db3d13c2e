#include "server/api/telemetry_hub.h"

#include <dlfcn.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "candor_version.h"
#include "server/api/calibration_search.h"
#include "server/api/calibration_store.h"
#include "server/api/convert.h"
#include "server/api/telemetry_proto.h"
#include "server/common/log.h"
#include "server/telemetry/audit_key.h"
#include "server/telemetry/audit_log.h"
#include "server/telemetry/metrics.h"

namespace candor::api {
namespace {

constexpr int kDefaultCalibrationTopK = 10;

telemetry::GalleryNow Now(const gallery::Gallery& gallery) {
  return {gallery.size(), absl::ToUnixMicros(absl::Now())};
}

telemetry::Metrics::Stage StageOf(int i) {
  return static_cast<telemetry::Metrics::Stage>(i);
}

// The label of groups beyond --metrics_max_groups.
constexpr char kOtherGroup[] = "other";

// The BLAS serving FAISS, as loaded: OpenBLAS names itself and its version
// (openblas_get_config); any other BLAS reads "unknown".
std::string BlasName() {
  using ConfigFn = char* (*)();
  auto config =
      reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  if (config == nullptr || config() == nullptr) return "unknown";
  // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"
  std::vector<std::string> words = absl::StrSplit(config(), ' ');
  return words.size() >= 2 ? absl::StrCat(words[0], " ", words[1]) : words[0];
}

// The first `max_groups` groups by live entries (ties by name).
std::set<std::string> LargestGroups(
    const std::map<std::string, uint64_t>& groups, int max_groups) {
  std::vector<std::pair<uint64_t, std::string>> by_size;
  for (const auto& [group, n] : groups) by_size.emplace_back(n, group);
  std::sort(by_size.begin(), by_size.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::set<std::string> out;
  for (size_t i = 0; i < by_size.size() && i < size_t(max_groups); ++i) {
    out.insert(by_size[i].second);
  }
  return out;
}

}  // namespace

class TelemetryHub::Impl : public batching::BatchObserver {
 public:
  using CalibrationPtr = CalibrationStore::Ptr;

  Impl(const ServerOptions& options)
      : options_(options), defaults_(FromPolicyDefaults(options.policy)) {}
  // The audit log first (its last callbacks count into the metrics), then
  // the metrics (their HTTP thread runs the collect hook, which reads the
  // members below).
  ~Impl() override {
    audit_.reset();
    metrics_.reset();
  }

  void Detach() {
    absl::MutexLock lock(&attach_mu_);
    store_ = nullptr;
    runner_ = nullptr;
  }

  absl::Status Init() {
    auto calibrations =
        CalibrationStore::Open(options_.store.data_dir + "/calibrations");
    if (!calibrations.ok()) return calibrations.status();
    calibrations_ = *std::move(calibrations);
    {  // The registry always exists; HTTP only with an address.
      auto metrics = telemetry::Metrics::Create(MetricsOptionsFor(options_));
      if (!metrics.ok()) return metrics.status();
      metrics_ = *std::move(metrics);
      if (!options_.metrics_listen.empty()) {
        // Not "(port N)": that phrase names the gRPC port, and people read it.
        LogInfo(absl::StrCat("metrics on http://", options_.metrics_listen,
                             "/metrics, bound to tcp ", metrics_->http_port()));
      }
    }
    const std::string key_file = options_.audit.key_file.empty()
                                     ? options_.store.data_dir + "/audit.key"
                                     : options_.audit.key_file;
    auto key = telemetry::LoadOrCreateAuditKey(key_file);
    if (!key.ok()) return key.status();
    if (!telemetry::KeyFileIsPrivate(key_file)) {
      LogWarning(absl::StrCat("audit key ", key_file,
                              " is readable by others: chmod 600 it"));
    }
    telemetry::AuditLog::Options audit_options;
    audit_options.dir = options_.audit_dir;
    audit_options.max_file_bytes = options_.audit.max_file_bytes;
    audit_options.max_files = options_.audit.max_files;
    audit_options.max_age = options_.audit.max_age;
    audit_options.key = *std::move(key);
    audit_options.checkpoint_path =
        options_.audit.checkpoint_file.empty()
            ? options_.store.data_dir + "/audit-checkpoint.json"
            : options_.audit.checkpoint_file;
    audit_options.checkpoint_interval = options_.audit.checkpoint_interval;
    telemetry::Metrics* metrics = metrics_.get();
    audit_options.on_write_failure = [metrics] {
      metrics->CountAuditWriteFailure();
    };
    audit_options.on_checkpoint = [metrics](uint64_t seq) {
      metrics->SetAuditCheckpoint(seq);
    };
    auto audit = telemetry::AuditLog::Open(audit_options);
    if (!audit.ok()) return audit.status();
    audit_ = *std::move(audit);
    return absl::OkStatus();
  }

  telemetry::Policy Policy(const gallery::Gallery& gallery) const {
    return telemetry::Merge(
        defaults_, FromPolicyProto(PolicyFromBlob(gallery.policy_blob())));
  }

  CalibrationPtr Find(const std::string& name) const {
    return calibrations_->Find(name);
  }

  absl::StatusOr<ThresholdDecision> Decide(const gallery::Gallery& gallery,
                                           const v1::SearchRequest& request) {
    CalibrationPtr calibration = Find(gallery.name());
    auto report = telemetry::DecideThreshold(
        Policy(gallery), calibration.get(), Now(gallery), gallery.name(),
        request.has_threshold() ? std::optional<float>(request.threshold())
                                : std::nullopt,
        "run Calibrate first");
    if (!report.ok()) return report.status();
    metrics_->CountVerdict(report->verdict.outcome);
    if (report->verdict.outcome == telemetry::VerdictOutcome::kReject) {
      return telemetry::ToRejectError(report->verdict);
    }
    const bool from_policy =
        report->source == telemetry::ThresholdSource::kPolicy;
    if (from_policy) PublishPolicyFpir(gallery.name(), *report);
    ThresholdDecision decision;
    decision.threshold = report->threshold;
    decision.source = from_policy ? v1::ThresholdReport::POLICY
                                  : v1::ThresholdReport::REQUEST;
    ToThresholdReportProto(*report, &decision.report);
    decision.verdict = report->verdict;
    return decision;
  }

  // candor_policy_fpir_ratio{gallery, group}: FPIR per group at the policy
  // threshold (extrapolated when stale); groups beyond the cap as "other",
  // with the highest FPIR among them.
  void PublishPolicyFpir(const std::string& gallery,
                         const telemetry::ThresholdReport& report) {
    metrics_->SetPolicyThreshold(gallery, report.threshold);
    std::map<std::string, double> fpir;
    for (const telemetry::GroupRates& g : report.groups) {
      const telemetry::Rate& r = g.fpir_extrapolated ? *g.fpir_extrapolated : g.fpir;
      double& slot = fpir.try_emplace(GroupLabel(gallery, g.group), 0.0).first->second;
      slot = std::max(slot, r.rate);
    }
    metrics_->ClearPolicyFpir(gallery);
    for (const auto& [group, rate] : fpir) {
      metrics_->SetPolicyFpir(gallery, group, rate);
    }
  }

  // The `group` label of `group` in `gallery`'s series: itself when among
  // the gallery's largest --metrics_max_groups groups, else "other". The
  // set is computed at every scrape, and when missing or older than
  // kGroupsMaxAge.
  std::string GroupLabel(const std::string& gallery, const std::string& group) {
    const absl::Time now = absl::Now();
    {
      absl::MutexLock lock(&groups_mu_);
      auto it = top_groups_.find(gallery);
      if (it != top_groups_.end() && now - it->second.at < kGroupsMaxAge) {
        return it->second.groups.count(group) ? group : kOtherGroup;
      }
    }
    std::set<std::string> top;
    {
      absl::ReaderMutexLock lock(&attach_mu_);
      if (store_ != nullptr) {
        if (auto g = store_->Get(gallery); g.ok()) {
          top = LargestGroups((*g)->Info().groups, options_.metrics_max_groups);
        }
      }
    }
    const bool kept = top.count(group) > 0;
    absl::MutexLock lock(&groups_mu_);
    top_groups_[gallery] = TopGroups{now, std::move(top)};
    return kept ? group : kOtherGroup;
  }

  // Before each scrape: every gallery's gauges, the group caps, the queue.
  void Collect() {
    // Held throughout: Detach waits for a scrape that uses the store.
    absl::ReaderMutexLock attached(&attach_mu_);
    gallery::GalleryStore* store = store_;
    if (store == nullptr) return;
    std::set<std::string> live;
    std::map<std::string, TopGroups> tops;
    const absl::Time now = absl::Now();
    for (const auto& g : store->List()) {
      const gallery::GalleryInfo info = g->Info();
      const std::string& name = g->name();
      live.insert(name);
      metrics_->SetGalleryEntries(name, info.size);
      metrics_->SetGalleryMemory(name, info.memory.host_bytes,
                                 info.memory.device_bytes);
      metrics_->SetErasureBacklog(name, info.erasure_backlog_entries);
      metrics_->SetCompactionFailures(name, info.compaction_failures);
      CalibrationPtr calibration = Find(name);
      const telemetry::CalibrationInfo described =
          telemetry::DescribeCalibration(calibration.get(),
                                         {info.size, absl::ToUnixMicros(absl::Now())});
      metrics_->SetCalibration(name, described.present, described.age_seconds,
                               described.stale);
      tops[name] = {now, LargestGroups(info.groups, options_.metrics_max_groups)};
      std::set<std::string> keep = tops[name].groups;
      keep.insert(kOtherGroup);
      metrics_->RetainGroups(name, keep);
    }
    {
      absl::MutexLock lock(&groups_mu_);
      top_groups_ = std::move(tops);
    }
    metrics_->RetainGalleries(live);
    if (runner_ != nullptr) {
      const batching::BatcherStats stats = runner_->Stats();
      metrics_->SetQueueDepth(stats.queued_requests, stats.queued_probes);
    }
  }

  void Attach(gallery::GalleryStore* store, SearchRunner* runner,
              std::shared_ptr<telemetry::SharedLatency> wal_fsync) {
    {
      absl::MutexLock lock(&attach_mu_);
      store_ = store;
      runner_ = runner;
    }
    if (wal_fsync) metrics_->SetWalFsyncLatency(std::move(wal_fsync));
    metrics_->SetCollectHook([this] { Collect(); });
    // What start-up found damaged: counted once, here.
    std::map<std::string, uint64_t> quarantined = {{"gallery", 0},
                                                   {"audit_log", 0},
                                                   {"audit_checkpoint", 0},
                                                   {"calibration", 0}};
    for (const gallery::QuarantineRecord& q : Quarantined()) ++quarantined[q.kind];
    for (const auto& [kind, n] : quarantined) metrics_->SetQuarantined(kind, n);
    if (store != nullptr) {
      for (const auto& g : store->List()) {
        const gallery::RecoveryDropped dropped = store->Dropped(g->name());
        if (dropped.bytes > 0) {
          metrics_->CountRecoveryDropped(g->name(), dropped.records,
                                         dropped.bytes);
        }
      }
    }
  }

  // Everything start-up quarantined or sealed aside: galleries, the audit
  // log and its checkpoint, calibrations.
  std::vector<gallery::QuarantineRecord> Quarantined() {
    std::vector<gallery::QuarantineRecord> out;
    {
      absl::ReaderMutexLock lock(&attach_mu_);
      if (store_ != nullptr) out = store_->Quarantined();
    }
    for (const telemetry::AuditLog::SealedFile& f : audit_->sealed()) {
      out.push_back({f.kind, f.name, f.path, f.reason, f.at_us});
    }
    for (gallery::QuarantineRecord& q : calibrations_->Damaged()) {
      out.push_back(std::move(q));
    }
    return out;
  }

  void RefreshPolicyFpir(const gallery::Gallery& gallery) {
    CalibrationPtr calibration = Find(gallery.name());
    const telemetry::Policy policy = Policy(gallery);
    if (!calibration) return;
    const telemetry::GalleryNow now = Now(gallery);
    auto t = telemetry::PolicyThreshold(policy, calibration.get(),
                                        gallery.name(), now.size);
    if (!t.ok()) return;
    PublishPolicyFpir(gallery.name(),
                      telemetry::MakeThresholdReport(
                          calibration.get(), now, *t,
                          telemetry::ThresholdSource::kPolicy));
  }

  absl::StatusOr<v1::CalibrationReport> Calibrate(
      std::shared_ptr<gallery::Gallery> gallery, SearchRunner* runner,
      const v1::CalibrateRequest& request, const CallLimits& limits) {
    const int top_k = request.top_k() == 0 ? kDefaultCalibrationTopK
                                           : static_cast<int>(request.top_k());
    if (top_k > options_.limits.max_top_k) {
      return absl::InvalidArgumentError(absl::StrCat(
          "top_k: ", top_k, " is outside 1..", options_.limits.max_top_k));
    }
    const gallery::GalleryInfo before = gallery->Info();
    absl::StatusOr<Observations> obs;
    telemetry::CalibrationMeta meta;
    switch (request.source_case()) {
      case v1::CalibrateRequest::kLabeled:
        meta.source = telemetry::kSourceLabeled;
        obs = SearchLabeledSet(gallery, runner, request.labeled(), top_k,
                               options_.limits.max_batch, limits);
        break;
      case v1::CalibrateRequest::kSelfAudit:
        meta.source = telemetry::kSourceSelfAudit;
        obs = SearchSelfAudit(gallery, runner, request.self_audit(), top_k,
                              options_.limits.max_batch, limits);
        break;
      default:
        return absl::InvalidArgumentError(
            "source: give a labeled set or self_audit");
    }
    if (!obs.ok()) return obs.status();
    // A caller gone during the last chunk gets no calibration stored in its
    // name: the call is recorded as it ended for the caller.
    if (absl::Status stop = limits.Check(); !stop.ok()) return stop;
    meta.created_at_us = absl::ToUnixMicros(absl::Now());
    meta.gallery_size = before.size;
    meta.gallery_version = before.version;
    meta.top_k = top_k;
    if (meta.gallery_size == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "gallery '", gallery->name(), "' is empty: nothing to calibrate"));
    }
    auto calibration =
        telemetry::Calibration::Build(meta, obs->nonmated, obs->mated);
    if (!calibration.ok()) return calibration.status();
    absl::Status saved;
    {
      // Calibrations of one gallery may end together (several maintenance
      // threads): their files are replaced one at a time, as they share
      // one temporary name.
      absl::MutexLock lock(&save_mu_);
      saved = calibrations_->Save(
          gallery->name(), std::make_shared<const telemetry::Calibration>(
                               *std::move(calibration)));
    }
    if (!saved.ok()) return saved;
    RefreshPolicyFpir(*gallery);
    v1::GetCalibrationRequest report_request;
    report_request.set_gallery(gallery->name());
    return GetCalibration(*gallery, report_request);
  }

  absl::StatusOr<v1::CalibrationReport> GetCalibration(
      const gallery::Gallery& gallery, const v1::GetCalibrationRequest& request) {
    CalibrationPtr calibration = Find(gallery.name());
    if (!calibration) {
      return absl::FailedPreconditionError(absl::StrCat(
          "gallery '", gallery.name(), "' has no calibration: run Calibrate"));
    }
    return CalibrationReportFor(*calibration, Now(gallery), Policy(gallery),
                                gallery.name(), request);
  }

  void Describe(const gallery::Gallery& gallery, bool* calibrated, bool* stale) const {
    CalibrationPtr calibration = Find(gallery.name());
    *calibrated = calibration != nullptr;
    *stale = calibration != nullptr &&
             telemetry::DescribeCalibration(calibration.get(), Now(gallery)).stale;
  }

  void Forget(const std::string& name) {
    calibrations_->Forget(name);
    {
      absl::MutexLock lock(&groups_mu_);
      top_groups_.erase(name);
    }
    metrics_->ForgetGallery(name);
  }

  void Record(const CallRecord& r, std::function<void(absl::Status)> done) {
    const std::map<std::string, uint64_t> per_group =
        CandidatesPerGroup(r.search_response);
    RecordMetrics(r, per_group);
    // The call's count and duration once its answer is known: the audit
    // record durable (the call's own status) or not (UNAVAILABLE).
    telemetry::Metrics* metrics = metrics_.get();
    audit_->Append(
        AuditRecordOf(r, per_group),
        [done = std::move(done), metrics, rpc = r.rpc, start = r.start,
         code = r.status.code()](absl::StatusOr<uint64_t> appended) {
          const absl::StatusCode answered =
              appended.ok() ? code : absl::StatusCode::kUnavailable;
          metrics->CountRequest(rpc, answered);
          metrics->ObserveRequestDuration(
              rpc, absl::ToDoubleSeconds(absl::Now() - start));
          if (appended.ok()) return done(absl::OkStatus());
          LogError(absl::StrCat("audit record not written, call refused: ",
                                appended.status().message()));
          done(absl::UnavailableError(absl::StrCat(
              "the audit log cannot record this call, so it is refused: ",
              appended.status().message())));
        });
  }

  const telemetry::Policy& floor() const { return defaults_; }

  void SetBackend(const std::string& backend, const std::string& device) {
    metrics_->SetBackendInfo(backend, device);
    metrics_->SetBuildInfo(Version(), GitCommit(), BlasName(), backend);
  }

  void OnBatch(const batching::BatchEvent& event) override {
    metrics_->ObserveBatchProbes(event.probes);
  }

 private:
  void RecordMetrics(const CallRecord& r,
                     const std::map<std::string, uint64_t>& per_group) {
    if (r.gallery_size >= 0) {
      metrics_->SetGalleryEntries(r.gallery, static_cast<uint64_t>(r.gallery_size));
    }
    if ((r.rpc != "Search" && r.rpc != "SearchStream") || !r.status.ok()) return;
    metrics_->CountProbes(r.gallery, static_cast<uint64_t>(r.probes));
    const absl::Duration stages[] = {r.queue_time, r.normalize_time,
                                     r.search_time, r.telemetry_time};
    for (int i = 0; i < telemetry::Metrics::kStages; ++i) {
      metrics_->ObserveLatency(StageOf(i), absl::ToDoubleSeconds(stages[i]));
    }
    if (r.decision) metrics_->ObserveThreshold(r.decision->threshold);
    // One label lookup per distinct group, not per candidate.
    std::map<std::string, uint64_t> per_label;
    for (const auto& [group, n] : per_group) {
      per_label[GroupLabel(r.gallery, group)] += n;
    }
    for (const auto& [label, n] : per_label) {
      metrics_->CountCandidates(r.gallery, label, n);
    }
  }

  // Candidates returned per candidate group ("" = unlabeled), counted once
  // for the metrics and the audit record.
  static std::map<std::string, uint64_t> CandidatesPerGroup(
      const v1::SearchResponse* response) {
    std::map<std::string, uint64_t> per_group;
    if (response == nullptr) return per_group;
    for (const auto& result : response->results()) {
      for (const auto& c : result.candidates()) ++per_group[c.group()];
    }
    return per_group;
  }

  static telemetry::AuditRecord AuditRecordOf(
      const CallRecord& r, const std::map<std::string, uint64_t>& per_group) {
    telemetry::AuditRecord a;
    a.start_time = r.start;
    a.end_time = r.end;
    a.operation = r.rpc;
    a.identity = r.caller.identity;
    a.peer = r.caller.peer;
    a.forwarded_by = r.caller.forwarded_by;
    a.details = r.details;
    a.purpose = r.purpose;
    a.gallery = r.gallery;
    a.gallery_version = r.gallery_version;
    a.probe_count = static_cast<uint32_t>(std::max(0, r.probes));
    a.status_code = r.status.code();
    a.status_message = std::string(r.status.message());
    if (r.decision) {
      a.threshold = r.decision->threshold;
      a.threshold_source =
          r.decision->source == v1::ThresholdReport::POLICY ? "policy" : "request";
      a.verdict = r.decision->verdict;
    } else if (telemetry::IsPolicyRejection(r.status)) {
      // A policy rejection: the verdict is the refusal itself.
      telemetry::Verdict verdict;
      verdict.outcome = telemetry::VerdictOutcome::kReject;
      verdict.violations.push_back(std::string(r.status.message()));
      a.verdict = verdict;
      if (r.search_request && r.search_request->has_threshold()) {
        a.threshold = r.search_request->threshold();
        a.threshold_source = "request";
      }
    }
    a.candidates_per_group = per_group;
    if (r.search_response) {
      a.matched_entry_ids.reserve(r.search_response->results_size());
      for (const auto& result : r.search_response->results()) {
        std::vector<EntryId> ids;
        ids.reserve(result.candidates_size());
        for (const auto& c : result.candidates()) ids.push_back(c.entry_id());
        a.matched_entry_ids.push_back(std::move(ids));
      }
    } else if (!r.entry_ids.empty()) {
      a.matched_entry_ids.push_back(r.entry_ids);
    }
    return a;
  }

  const ServerOptions options_;
  const telemetry::Policy defaults_;
  // All three set by Init (Create fails otherwise), so never null.
  std::unique_ptr<CalibrationStore> calibrations_;
  std::unique_ptr<telemetry::Metrics> metrics_;
  std::unique_ptr<telemetry::AuditLog> audit_;
  // Set by Attach, cleared by Detach; read by scrapes and searches.
  absl::Mutex attach_mu_;
  gallery::GalleryStore* store_ ABSL_GUARDED_BY(attach_mu_) = nullptr;
  SearchRunner* runner_ ABSL_GUARDED_BY(attach_mu_) = nullptr;
  // Per gallery: the groups its series name (the rest are "other").
  struct TopGroups {
    absl::Time at;
    std::set<std::string> groups;
  };
  static constexpr absl::Duration kGroupsMaxAge = absl::Seconds(10);
  // Serializes calibration saves (Calibrate).
  absl::Mutex save_mu_;
  absl::Mutex groups_mu_;
  std::map<std::string, TopGroups> top_groups_ ABSL_GUARDED_BY(groups_mu_);
};

absl::StatusOr<std::unique_ptr<TelemetryHub>> TelemetryHub::Create(
    const ServerOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  absl::Status status = impl->Init();
  if (!status.ok()) return status;
  return std::unique_ptr<TelemetryHub>(new TelemetryHub(std::move(impl)));
}

TelemetryHub::TelemetryHub(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TelemetryHub::~TelemetryHub() = default;

v1::Policy TelemetryHub::EffectivePolicy(const gallery::Gallery& gallery) const {
  return ToPolicyProto(impl_->Policy(gallery));
}

absl::StatusOr<ThresholdDecision> TelemetryHub::Decide(
    const gallery::Gallery& gallery, const v1::SearchRequest& request) {
  return impl_->Decide(gallery, request);
}

absl::StatusOr<v1::CalibrationReport> TelemetryHub::Calibrate(
    std::shared_ptr<gallery::Gallery> gallery, SearchRunner* runner,
    const v1::CalibrateRequest& request, const CallLimits& limits) {
  return impl_->Calibrate(std::move(gallery), runner, request, limits);
}

absl::StatusOr<v1::CalibrationReport> TelemetryHub::GetCalibration(
    const gallery::Gallery& gallery, const v1::GetCalibrationRequest& request) {
  return impl_->GetCalibration(gallery, request);
}

void TelemetryHub::DescribeCalibration(const gallery::Gallery& gallery,
                                       bool* calibrated, bool* stale) const {
  impl_->Describe(gallery, calibrated, stale);
}

batching::BatchObserver* TelemetryHub::batch_observer() { return impl_.get(); }

void TelemetryHub::ForgetGallery(const std::string& name) { impl_->Forget(name); }
void TelemetryHub::Record(const CallRecord& record,
                          std::function<void(absl::Status)> done) {
  impl_->Record(record, std::move(done));
}
const telemetry::Policy& TelemetryHub::policy_floor() const {
  return impl_->floor();
}
void TelemetryHub::SetBackend(const std::string& backend,
                              const std::string& device) {
  impl_->SetBackend(backend, device);
}
void TelemetryHub::Detach() { impl_->Detach(); }
std::vector<gallery::QuarantineRecord> TelemetryHub::Quarantined() const {
  return impl_->Quarantined();
}

void TelemetryHub::Attach(gallery::GalleryStore* store, SearchRunner* runner,
                          std::shared_ptr<telemetry::SharedLatency> wal_fsync) {
  impl_->Attach(store, runner, std::move(wal_fsync));
}

telemetry::Metrics::Options MetricsOptionsFor(const ServerOptions& options) {
  telemetry::Metrics::Options metrics;
  metrics.listen_address = options.metrics_listen;
  metrics.max_connections = options.metrics_http.max_connections;
  metrics.connection_timeout_s = static_cast<int>(
      absl::ToInt64Seconds(options.metrics_http.connection_timeout));
  return metrics;
}

}  // namespace candor::api
