#include "server/api/telemetry_hub.h"

#include <dlfcn.h>

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "candor_version.h"
#include "server/api/calibration_search.h"
#include "server/api/convert.h"
#include "server/common/log.h"
#include "server/index/cpu_blas.h"
#include "server/telemetry/telemetry_proto.h"

namespace candor::api {
namespace {

// The BLAS libraries serving searches, as loaded: the CPU flat index's GEMM
// (cpu_blas.h) and the OpenBLAS FAISS links (IVF, faiss-cpu), which names
// itself through openblas_get_config ("unknown" for any other BLAS).
std::string BlasName() {
  using ConfigFn = char* (*)();
  auto config =
      reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  std::string faiss = "unknown";
  if (config != nullptr && config() != nullptr) {
    // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"
    std::vector<std::string> words = absl::StrSplit(config(), ' ');
    faiss = words.size() >= 2 ? absl::StrCat(words[0], " ", words[1])
                              : words[0];
  }
  return absl::StrCat(index::ServingBlas().info().Describe(), " (flat), ",
                      faiss, " (FAISS)");
}

telemetry::Policy OverrideOf(const gallery::Gallery& gallery) {
  return telemetry::FromPolicyProto(PolicyFromBlob(gallery.policy_blob()));
}

telemetry::PolicyGallery ViewOf(const gallery::Gallery& gallery) {
  return {gallery.name(), gallery.size(), OverrideOf(gallery)};
}

telemetry::GalleryGauges GaugesOf(const gallery::Gallery& gallery) {
  const gallery::GalleryInfo info = gallery.Info();
  telemetry::GalleryGauges g;
  g.name = gallery.name();
  g.entries = info.size;
  g.host_bytes = info.memory.host_bytes;
  g.device_bytes = info.memory.device_bytes;
  g.erasure_backlog = info.erasure_backlog_entries;
  g.compaction_failures = info.compaction_failures;
  g.precision = index::PrecisionName(info.config.index.precision);
  g.groups = info.groups;
  return g;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TelemetryHub>> TelemetryHub::Create(
    const ServerOptions& options) {
  auto units = telemetry::TelemetryUnits::Open(TelemetryOptionsFor(
      options, options.store.data_dir + "/calibrations", "run Calibrate first"));
  if (!units.ok()) return units.status();
  if (!options.metrics_listen.empty()) {
    // Not "(port N)": that phrase names the gRPC port, and people read it.
    LogInfo(absl::StrCat("metrics on http://", options.metrics_listen,
                         "/metrics, bound to tcp ",
                         (*units)->metrics().http_port()));
  }
  return std::unique_ptr<TelemetryHub>(
      new TelemetryHub(options, *std::move(units)));
}

TelemetryHub::~TelemetryHub() = default;

v1::Policy TelemetryHub::EffectivePolicy(const gallery::Gallery& gallery) const {
  return telemetry::ToPolicyProto(units_->policy().Effective(OverrideOf(gallery)));
}

absl::StatusOr<ThresholdDecision> TelemetryHub::Decide(
    const gallery::Gallery& gallery, const v1::SearchRequest& request) {
  return units_->policy().Decide(ViewOf(gallery), request);
}

absl::StatusOr<v1::CalibrationReport> TelemetryHub::Calibrate(
    std::shared_ptr<gallery::Gallery> gallery, SearchRunner* runner,
    const v1::CalibrateRequest& request, const CallLimits& limits) {
  const telemetry::Policy override_policy = OverrideOf(*gallery);
  return units_->calibrator().Calibrate(
      ServerCalibrationBackend(std::move(gallery), runner, limits_), request,
      limits, override_policy);
}

absl::StatusOr<v1::CalibrationReport> TelemetryHub::GetCalibration(
    const gallery::Gallery& gallery, const v1::GetCalibrationRequest& request) {
  return units_->policy().Report(ViewOf(gallery), request);
}

void TelemetryHub::DescribeCalibration(const gallery::Gallery& gallery,
                                       bool* calibrated, bool* stale) const {
  units_->policy().Describe(ViewOf(gallery), calibrated, stale);
}

void TelemetryHub::ForgetGallery(const std::string& name) {
  units_->calibrations().Forget(name);
  units_->observer().ForgetGallery(name);
}

void TelemetryHub::Record(const CallRecord& record,
                          std::function<void(absl::Status)> done) {
  units_->audit().Record(record, std::move(done));
}

absl::Status TelemetryHub::CheckPolicyOverride(const v1::Policy& policy) const {
  return units_->policy().CheckOverride(telemetry::FromPolicyProto(policy));
}

const telemetry::Policy& TelemetryHub::policy_floor() const {
  return units_->policy().floor();
}

void TelemetryHub::SetBackend(const std::string& backend,
                              const std::string& device) {
  units_->metrics().SetBackendInfo(backend, device);
  units_->metrics().SetBuildInfo(Version(), GitCommit(), BlasName(), backend);
}

batching::BatchObserver* TelemetryHub::batch_observer() {
  return &units_->observer();
}

void TelemetryHub::Attach(gallery::GalleryStore* store, SearchRunner* runner,
                          std::shared_ptr<telemetry::SharedLatency> wal_fsync) {
  {
    absl::MutexLock lock(&store_mu_);
    store_ = store;
  }
  telemetry::GaugeSource source;
  if (store != nullptr) {
    source.galleries = [store] {
      std::vector<telemetry::GalleryGauges> out;
      for (const auto& g : store->List()) out.push_back(GaugesOf(*g));
      return out;
    };
    source.groups = [store](const std::string& name) {
      auto g = store->Get(name);
      return g.ok() ? (*g)->Info().groups : std::map<std::string, uint64_t>();
    };
  }
  if (runner != nullptr) {
    source.queue = [runner](int64_t* requests, int64_t* probes) {
      const batching::BatcherStats stats = runner->Stats();
      *requests = stats.queued_requests;
      *probes = stats.queued_probes;
    };
  }
  units_->observer().Attach(std::move(source));
  telemetry::Metrics& metrics = units_->metrics();
  if (wal_fsync) metrics.SetWalFsyncLatency(std::move(wal_fsync));
  // What start-up found damaged: counted once, here.
  std::map<std::string, uint64_t> quarantined = {{"gallery", 0},
                                                 {"audit_log", 0},
                                                 {"audit_checkpoint", 0},
                                                 {"calibration", 0}};
  for (const gallery::QuarantineRecord& q : Quarantined()) ++quarantined[q.kind];
  for (const auto& [kind, n] : quarantined) metrics.SetQuarantined(kind, n);
  if (store != nullptr) {
    for (const auto& g : store->List()) {
      const gallery::RecoveryDropped dropped = store->Dropped(g->name());
      if (dropped.bytes > 0) {
        metrics.CountRecoveryDropped(g->name(), dropped.records, dropped.bytes);
      }
    }
  }
}

void TelemetryHub::Detach() {
  units_->observer().Detach();
  absl::MutexLock lock(&store_mu_);
  store_ = nullptr;
}

std::vector<gallery::QuarantineRecord> TelemetryHub::Quarantined() const {
  std::vector<gallery::QuarantineRecord> out;
  {
    absl::MutexLock lock(&store_mu_);
    if (store_ != nullptr) out = store_->Quarantined();
  }
  for (gallery::QuarantineRecord& q : units_->Quarantined()) {
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace candor::api
