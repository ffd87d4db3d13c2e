// Gallery administration RPCs.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/api/candor_service.h"
#include "server/api/convert.h"
#include "server/api/gallery_limits.h"
#include "server/telemetry/telemetry_proto.h"
#include "server/edge/unary.h"
#include "server/edge/validation.h"
#include "server/index/cpu_blas.h"

namespace candor::api {
namespace {

// A policy as it reads in an audit record.
telemetry::AuditJson PolicyJson(const v1::Policy& policy) {
  return telemetry::AuditJson::parse(
      telemetry::PolicyToJson(telemetry::FromPolicyProto(policy)));
}

// CreateGalleryRequest.precision: unspecified is fp32.
absl::StatusOr<index::Precision> FromPrecisionProto(int precision) {
  switch (precision) {
    case v1::PRECISION_UNSPECIFIED:
    case v1::PRECISION_FP32:
      return index::Precision::kFp32;
    case v1::PRECISION_BF16:
      return index::Precision::kBf16;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "precision: unknown value ", precision,
      " (expected PRECISION_FP32 or PRECISION_BF16)"));
}

v1::Precision ToPrecisionProto(index::Precision precision) {
  return precision == index::Precision::kBf16 ? v1::PRECISION_BF16
                                              : v1::PRECISION_FP32;
}

// One of the service's executors; options out of range are clamped (the
// flags are checked at start-up).
std::unique_ptr<BlockingExecutor> MakeExecutor(const std::string& name,
                                               const std::string& flag,
                                               int threads, int max_queue) {
  BlockingExecutor::Options options;
  options.name = name;
  options.threads_flag = flag;
  options.queue_flag = "blocking_queue";
  options.threads = std::max(1, threads);
  options.max_queue = std::max(0, max_queue);
  return *BlockingExecutor::Create(std::move(options));
}

}  // namespace

CandorService::CandorService(const ServerOptions& options,
                             gallery::GalleryStore* store, SearchRunner* runner,
                             TelemetryHub* telemetry,
                             const security::CallGate* gate)
    : EdgeService(options.limits.max_purpose_bytes),
      options_(options),
      store_(store),
      runner_(runner),
      telemetry_(telemetry),
      gate_(gate),
      writes_(MakeExecutor("write", "write_threads",
                           options.blocking.write_threads,
                           options.blocking.max_queue)),
      maintenance_(MakeExecutor("maintenance", "maintenance_threads",
                                options.blocking.maintenance_threads,
                                options.blocking.max_queue)) {}

CandorService::~CandorService() { Shutdown(); }

void CandorService::Shutdown() {
  writes_->Shutdown();
  maintenance_->Shutdown();
}

absl::Status CandorService::StillWanted(
    const grpc::CallbackServerContext& ctx) {
  if (absl::Now() >= DeadlineOf(ctx)) {
    return absl::DeadlineExceededError(
        "the caller's deadline passed while the call waited for a thread");
  }
  if (ctx.IsCancelled()) {
    return absl::CancelledError(
        "the caller cancelled while the call waited for a thread");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<gallery::Gallery>> CandorService::FindGallery(
    const std::string& name) const {
  if (name.empty()) {
    return absl::InvalidArgumentError("gallery: name is empty");
  }
  return store_->Get(name);
}

absl::Status CandorService::CheckGalleryPolicy(const v1::Policy& policy) const {
  return telemetry_->CheckPolicyOverride(policy);
}

absl::Status CandorService::DoCreateGallery(const v1::CreateGalleryRequest& req,
                                            v1::Gallery* resp,
                                            CallRecord* record) {
  absl::Status status = gallery::ValidateGalleryName(req.name());
  if (!status.ok()) return status;
  status = ValidateDimension(req.dimension());
  if (!status.ok()) return status;
  status = ValidateGalleryCount(store_->List().size(),
                                options_.limits.max_galleries);
  if (!status.ok()) return status;
  if (req.has_policy()) {
    status = CheckGalleryPolicy(req.policy());
    if (!status.ok()) return status;
  }
  record->details["dimension"] = req.dimension();
  record->details["policy"] = PolicyJson(req.policy());
  auto index_config = ToIndexConfig(req.index(), req.dimension());
  if (!index_config.ok()) return index_config.status();
  gallery::GalleryConfig config;
  config.name = req.name();
  config.index = *index_config;
  auto precision = FromPrecisionProto(req.precision());
  if (!precision.ok()) return precision.status();
  config.index.precision = *precision;
  if (req.has_policy()) config.policy_blob = PolicyToBlob(req.policy());
  config.created_at_us = absl::ToUnixMicros(absl::Now());
  auto created = store_->Create(config);
  if (!created.ok()) return created.status();
  return DoGetGallery(req.name(), resp);
}

absl::Status CandorService::DoGetGallery(const std::string& name,
                                         v1::Gallery* resp) {
  auto gallery = FindGallery(name);
  if (!gallery.ok()) return gallery.status();
  const gallery::GalleryInfo info = (*gallery)->Info();
  ToGalleryProto(info, telemetry_->EffectivePolicy(**gallery), resp);
  resp->set_precision(ToPrecisionProto(info.config.index.precision));
  bool calibrated = false, stale = false;
  telemetry_->DescribeCalibration(**gallery, &calibrated, &stale);
  resp->set_calibrated(calibrated);
  resp->set_calibration_stale(stale);
  const gallery::RecoveryDropped dropped = store_->Dropped(name);
  resp->set_recovery_dropped_records(dropped.records);
  resp->set_recovery_dropped_bytes(dropped.bytes);
  return absl::OkStatus();
}

absl::Status CandorService::DoDeleteGallery(
    const v1::DeleteGalleryRequest& req, CallRecord* record) {
  if (req.name().empty()) {
    return absl::InvalidArgumentError("name: gallery name is empty");
  }
  if (auto gallery = store_->Get(req.name()); gallery.ok()) {
    record->details["entries_deleted"] = (*gallery)->Info().size;
  }
  absl::Status status = store_->Delete(req.name());
  if (status.ok()) telemetry_->ForgetGallery(req.name());
  return status;
}

absl::Status CandorService::DoCompactGallery(
    const v1::CompactGalleryRequest& req, v1::CompactGalleryResponse* resp) {
  auto gallery = FindGallery(req.name());
  if (!gallery.ok()) return gallery.status();
  auto result = (*gallery)->Compact();
  if (!result.ok()) return result.status();
  resp->set_bytes_before(result->bytes_before);
  resp->set_bytes_after(result->bytes_after);
  resp->set_erased_entries(result->erased_entries);
  return absl::OkStatus();
}

absl::Status CandorService::DoSetPolicy(const v1::SetPolicyRequest& req,
                                        v1::Gallery* resp, CallRecord* record) {
  auto gallery = FindGallery(req.gallery());
  if (!gallery.ok()) return gallery.status();
  const v1::Policy& p = req.policy();
  record->details["override_before"] =
      PolicyJson(PolicyFromBlob((*gallery)->policy_blob()));
  record->details["effective_before"] =
      PolicyJson(telemetry_->EffectivePolicy(**gallery));
  record->details["requested"] =
      req.clear() ? telemetry::AuditJson("clear") : PolicyJson(p);
  if (!req.clear()) {
    absl::Status s = CheckGalleryPolicy(p);
    if (!s.ok()) return s;
  }
  absl::Status status =
      (*gallery)->SetPolicyBlob(req.clear() ? std::string() : PolicyToBlob(p));
  if (!status.ok()) return status;
  record->details["effective_after"] =
      PolicyJson(telemetry_->EffectivePolicy(**gallery));
  return DoGetGallery(req.gallery(), resp);
}

absl::Status CandorService::DoTrainIndex(const v1::TrainIndexRequest& req,
                                         v1::Gallery* resp) {
  auto gallery = FindGallery(req.gallery());
  if (!gallery.ok()) return gallery.status();
  if ((*gallery)->Info().config.index.type != index::IndexType::kIvfFlat) {
    return absl::FailedPreconditionError(absl::StrCat(
        "gallery '", req.gallery(), "' has a flat index: nothing to train"));
  }
  absl::Status status = (*gallery)->TrainIndex(static_cast<int>(req.nlist()));
  if (!status.ok()) return status;
  return DoGetGallery(req.gallery(), resp);
}

absl::Status CandorService::DoGetStats(v1::Stats* resp) {
  MemoryBytes total;
  uint64_t entries = 0;
  std::string backend;
  auto galleries = store_->List();
  // Memory per entry of each precision (index: index::Precision).
  v1::PrecisionMemory by_precision[2];
  for (const auto& g : galleries) {
    gallery::GalleryInfo info = g->Info();
    v1::PrecisionMemory& p =
        by_precision[static_cast<int>(info.config.index.precision)];
    p.set_galleries(p.galleries() + 1);
    p.set_entries(p.entries() + info.size);
    p.set_host_bytes(p.host_bytes() + info.memory.host_bytes);
    total.host_bytes += info.memory.host_bytes;
    total.device_bytes += info.memory.device_bytes;
    total.mapped_bytes += info.memory.mapped_bytes;
    entries += info.size;
    if (backend.empty()) backend = info.backend;
  }
  resp->set_galleries(galleries.size());
  resp->set_entries(entries);
  ToMemoryProto(total, entries, resp->mutable_memory());
  auto resolved = index::ResolveBackend(options_.backend);
  resp->set_backend(resolved.ok() ? index::BackendName(*resolved) : backend);
  resp->set_version(CANDOR_VERSION);
  resp->set_cpu_gemm(index::ServingBlas().info().Describe());
  for (int i = 0; i < 2; ++i) {
    v1::PrecisionMemory& p = by_precision[i];
    if (p.galleries() == 0) continue;
    p.set_precision(ToPrecisionProto(static_cast<index::Precision>(i)));
    if (p.entries() > 0) {
      p.set_host_bytes_per_entry(double(p.host_bytes()) / double(p.entries()));
    }
    *resp->add_memory_by_precision() = p;
  }
  for (const gallery::QuarantineRecord& q : telemetry_->Quarantined()) {
    v1::Quarantined* out = resp->add_quarantined();
    out->set_kind(q.kind);
    out->set_name(q.name);
    out->set_path(q.path);
    out->set_reason(q.reason);
    out->set_at_us(q.at_us);
  }
  return absl::OkStatus();
}

absl::Status CandorService::Work(const Ctx&,
                                 const v1::CreateGalleryRequest& req,
                                 v1::Gallery* resp, CallRecord* record) {
  return DoCreateGallery(req, resp, record);
}

absl::Status CandorService::Work(const Ctx&, const v1::GetGalleryRequest& req,
                                 v1::Gallery* resp, CallRecord*) {
  return DoGetGallery(req.name(), resp);
}

absl::Status CandorService::Work(const Ctx&, const v1::ListGalleriesRequest&,
                                 v1::ListGalleriesResponse* resp,
                                 CallRecord* record) {
  for (const auto& g : store_->List()) {
    absl::Status s = DoGetGallery(g->name(), resp->add_galleries());
    // Deleted between List and Get: leave it out.
    if (absl::IsNotFound(s)) resp->mutable_galleries()->RemoveLast();
  }
  record->details["galleries"] = resp->galleries_size();
  return absl::OkStatus();
}

absl::Status CandorService::Work(const Ctx&,
                                 const v1::DeleteGalleryRequest& req,
                                 v1::DeleteGalleryResponse*,
                                 CallRecord* record) {
  return DoDeleteGallery(req, record);
}

absl::Status CandorService::Work(const Ctx&,
                                 const v1::CompactGalleryRequest& req,
                                 v1::CompactGalleryResponse* resp,
                                 CallRecord* record) {
  absl::Status status = DoCompactGallery(req, resp);
  record->details["erased_entries"] = resp->erased_entries();
  record->details["bytes_before"] = resp->bytes_before();
  record->details["bytes_after"] = resp->bytes_after();
  return status;
}

absl::Status CandorService::Work(const Ctx&, const v1::SetPolicyRequest& req,
                                 v1::Gallery* resp, CallRecord* record) {
  return DoSetPolicy(req, resp, record);
}

absl::Status CandorService::Work(const Ctx&, const v1::TrainIndexRequest& req,
                                 v1::Gallery* resp, CallRecord* record) {
  record->details["nlist"] = req.nlist();
  return DoTrainIndex(req, resp);
}

absl::Status CandorService::Work(const Ctx&, const v1::GetStatsRequest&,
                                 v1::Stats* resp, CallRecord*) {
  return DoGetStats(resp);
}

}  // namespace candor::api
