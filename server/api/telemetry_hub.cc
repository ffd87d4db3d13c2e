#include "server/api/telemetry_hub.h"

#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

}  // namespace

class TelemetryHub::Impl : public batching::BatchObserver {
 public:
  using CalibrationPtr = CalibrationStore::Ptr;

  Impl(const ServerOptions& options)
      : options_(options), defaults_(FromPolicyDefaults(options.policy)) {}

  absl::Status Init() {
    auto calibrations =
        CalibrationStore::Open(options_.store.data_dir + "/calibrations");
    if (!calibrations.ok()) return calibrations.status();
    calibrations_ = *std::move(calibrations);
    {  // The registry always exists; HTTP only with an address.
      telemetry::Metrics::Options metrics_options;
      metrics_options.listen_address = options_.metrics_listen;
      auto metrics = telemetry::Metrics::Create(metrics_options);
      if (!metrics.ok()) return metrics.status();
      metrics_ = *std::move(metrics);
      if (!options_.metrics_listen.empty()) {
        // Not "(port N)": tests read the gRPC port from that phrase.
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
    if (metrics_) metrics_->CountVerdict(report->verdict.outcome);
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

  // candor_policy_fpir{gallery, group}: FPIR per group at the policy
  // threshold (extrapolated when stale).
  void PublishPolicyFpir(const std::string& gallery,
                         const telemetry::ThresholdReport& report) {
    if (!metrics_) return;
    metrics_->SetPolicyThreshold(gallery, report.threshold);
    for (const telemetry::GroupRates& g : report.groups) {
      const telemetry::Rate& r = g.fpir_extrapolated ? *g.fpir_extrapolated : g.fpir;
      metrics_->SetPolicyFpir(gallery, g.group, r.rate);
    }
  }

  void RefreshPolicyFpir(const gallery::Gallery& gallery) {
    CalibrationPtr calibration = Find(gallery.name());
    const telemetry::Policy policy = Policy(gallery);
    if (!calibration || !metrics_) return;
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
      const v1::CalibrateRequest& request) {
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
                               options_.limits.max_batch);
        break;
      case v1::CalibrateRequest::kSelfAudit:
        meta.source = telemetry::kSourceSelfAudit;
        obs = SearchSelfAudit(gallery, runner, request.self_audit(), top_k,
                              options_.limits.max_batch);
        break;
      default:
        return absl::InvalidArgumentError(
            "source: give a labeled set or self_audit");
    }
    if (!obs.ok()) return obs.status();
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
    absl::Status saved = calibrations_->Save(
        gallery->name(),
        std::make_shared<const telemetry::Calibration>(*std::move(calibration)));
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

  void Forget(const std::string& name) { calibrations_->Forget(name); }

  void Record(const CallRecord& r, std::function<void(absl::Status)> done) {
    if (metrics_) RecordMetrics(r);
    audit_->Append(
        AuditRecordOf(r),
        [done = std::move(done)](absl::StatusOr<uint64_t> appended) {
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
    if (metrics_) metrics_->SetBackendInfo(backend, device);
  }

  void OnBatch(const batching::BatchEvent& event) override {
    if (metrics_) metrics_->ObserveBatchProbes(event.probes);
  }

 private:
  void RecordMetrics(const CallRecord& r) {
    metrics_->CountRequest(r.rpc, r.status.code());
    metrics_->ObserveRequestDuration(r.rpc, absl::ToDoubleSeconds(r.end - r.start));
    if (r.gallery_size >= 0) {
      metrics_->SetGalleryEntries(r.gallery, static_cast<uint64_t>(r.gallery_size));
    }
    if ((r.rpc != "Search" && r.rpc != "SearchStream") || !r.status.ok()) return;
    metrics_->CountProbes(r.gallery, static_cast<uint64_t>(r.probes));
    const absl::Duration stages[] = {r.queue_time, r.normalize_time,
                                     r.search_time, r.telemetry_time,
                                     r.end - r.start};
    for (int i = 0; i < telemetry::Metrics::kStages; ++i) {
      metrics_->ObserveLatency(StageOf(i), absl::ToDoubleSeconds(stages[i]));
    }
    if (r.decision) metrics_->ObserveThreshold(r.decision->threshold);
    if (r.search_response) {
      std::map<std::string, uint64_t> per_group;
      for (const auto& result : r.search_response->results()) {
        for (const auto& c : result.candidates()) ++per_group[c.group()];
      }
      for (const auto& [group, n] : per_group) {
        metrics_->CountCandidates(r.gallery, group, n);
      }
    }
  }

  static telemetry::AuditRecord AuditRecordOf(const CallRecord& r) {
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
    if (r.search_response) {
      for (const auto& result : r.search_response->results()) {
        std::vector<EntryId> ids;
        for (const auto& c : result.candidates()) {
          ids.push_back(c.entry_id());
          ++a.candidates_per_group[c.group()];
        }
        a.matched_entry_ids.push_back(std::move(ids));
      }
    } else if (!r.entry_ids.empty()) {
      a.matched_entry_ids.push_back(r.entry_ids);
    }
    return a;
  }

  const ServerOptions options_;
  const telemetry::Policy defaults_;
  std::unique_ptr<CalibrationStore> calibrations_;
  std::unique_ptr<telemetry::Metrics> metrics_;
  std::unique_ptr<telemetry::AuditLog> audit_;
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
    const v1::CalibrateRequest& request) {
  return impl_->Calibrate(std::move(gallery), runner, request);
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

}  // namespace candor::api
