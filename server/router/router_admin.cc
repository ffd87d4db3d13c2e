// Gallery administration through the router: sent to every shard, answers
// aggregated (gallery_aggregate.h).
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/edge/unary.h"
#include "server/router/gallery_aggregate.h"
#include "server/common/log.h"
#include "server/router/router_service.h"
#include "server/router/shard_rpcs.h"
#include "server/telemetry/telemetry_proto.h"

namespace candor::router {
namespace {

// How long a gallery's size stays cached for the threshold report. The
// report only needs it to tell a stale calibration (size moved > 10%);
// writes through this router refresh it at once.
constexpr absl::Duration kSizeCacheTtl = absl::Seconds(2);

// OK when every shard answered OK, or when the only failures are `benign`
// (e.g. ALREADY_EXISTS on a create that an earlier, partly failed call
// began) and at least one shard answered OK.
template <typename Req, typename Resp>
absl::Status AllOkOr(const ShardSet& shards,
                     const std::vector<ShardCall<Req, Resp>>& calls,
                     absl::StatusCode benign) {
  bool any_ok = false, only_benign = true;
  for (const auto& call : calls) {
    any_ok = any_ok || call.status.ok();
    if (!call.status.ok() && call.status.code() != benign) only_benign = false;
  }
  if (any_ok && only_benign) return absl::OkStatus();
  return FirstError(shards, calls);
}

}  // namespace

RouterService::RouterService(const RouterOptions& options,
                             const ShardSet* shards,
                             telemetry::TelemetryUnits* telemetry,
                             telemetry::PolicyStore* policies,
                             const security::CallGate* gate)
    : EdgeService(options.server.limits.max_purpose_bytes),
      options_(options),
      shards_(shards),
      telemetry_(telemetry),
      policies_(policies),
      gate_(gate) {}

void RouterService::Audit(const telemetry::CallRecord& record,
                          std::function<void(absl::Status)> done) {
  telemetry_->audit().Record(record, std::move(done));
}

absl::StatusOr<telemetry::PolicyGallery> RouterService::PolicyView(
    const std::string& name, absl::Time deadline) {
  telemetry::PolicyGallery view;
  view.name = name;
  view.override_policy = policies_->Find(name);
  // The size only matters to a calibrated gallery's report (staleness).
  if (telemetry_->calibrations().Find(name) != nullptr) {
    auto size = GallerySize(name, deadline);
    if (!size.ok()) return size.status();
    view.size = *size;
  }
  return view;
}

absl::Status RouterService::Admit(const grpc::CallbackServerContext& ctx,
                                  const char* rpc,
                                  security::Caller* caller) const {
  absl::Status status = gate_->Admit(ctx, rpc, caller);
  if (!status.ok()) {
    LogWarning(absl::StrCat("refused ", rpc, " from ",
                            caller->identity.empty() ? "(no identity)"
                                                     : caller->identity,
                            " at ", caller->peer, ": ", status.message()));
  }
  return status;
}

absl::Time RouterService::ShardDeadline(absl::Time call_deadline) const {
  return std::min(call_deadline, absl::Now() + options_.shard_timeout);
}

absl::StatusOr<v1::Gallery> RouterService::AggregatedGallery(
    const std::string& name, absl::Time deadline) {
  if (name.empty()) return absl::InvalidArgumentError("gallery: name is empty");
  v1::GetGalleryRequest req;
  req.set_name(name);
  auto replies = FanOutAndWait<v1::GetGalleryRequest, v1::Gallery>(
      *shards_, ToEveryShard<v1::GetGalleryRequest, v1::Gallery>(*shards_, req),
      ShardDeadline(deadline), rpc::GetGallery());
  absl::Status status = FirstError(*shards_, replies);
  if (!status.ok()) return status;
  std::vector<const v1::Gallery*> parts;
  for (const auto& r : replies) parts.push_back(&r.response);
  v1::Gallery out = AggregateGallery(parts);
  absl::MutexLock lock(&mu_);
  sizes_[name] = SizeEntry{out.size(), absl::Now()};
  return out;
}

absl::StatusOr<uint64_t> RouterService::GallerySize(const std::string& name,
                                                    absl::Time deadline) {
  {
    absl::MutexLock lock(&mu_);
    auto it = sizes_.find(name);
    if (it != sizes_.end() &&
        absl::Now() - it->second.fetched < kSizeCacheTtl) {
      return it->second.size;
    }
  }
  auto gallery = AggregatedGallery(name, deadline);
  if (!gallery.ok()) return gallery.status();
  return gallery->size();
}

void RouterService::ForgetSize(const std::string& name) {
  absl::MutexLock lock(&mu_);
  sizes_.erase(name);
}

absl::Status RouterService::DoGetGallery(const std::string& name,
                                         absl::Time deadline,
                                         v1::Gallery* resp) {
  auto gallery = AggregatedGallery(name, deadline);
  if (!gallery.ok()) return gallery.status();
  *resp = *std::move(gallery);
  const telemetry::PolicyGallery view{name, resp->size(),
                                      policies_->Find(name)};
  *resp->mutable_policy() = telemetry::ToPolicyProto(
      telemetry_->policy().Effective(view.override_policy));
  bool calibrated = false, stale = false;
  telemetry_->policy().Describe(view, &calibrated, &stale);
  resp->set_calibrated(calibrated);
  resp->set_calibration_stale(stale);
  return absl::OkStatus();
}

absl::Status RouterService::DoCreateGallery(const v1::CreateGalleryRequest& req,
                                            absl::Time deadline,
                                            v1::Gallery* resp) {
  // The router keeps and enforces the gallery's policy; the shards answer
  // searches at the threshold it decides.
  const telemetry::Policy policy = telemetry::FromPolicyProto(req.policy());
  if (req.has_policy()) {
    absl::Status status = telemetry_->policy().CheckOverride(policy);
    if (!status.ok()) return status;
  }
  v1::CreateGalleryRequest shard_request = req;
  shard_request.clear_policy();
  auto replies = FanOutAndWait<v1::CreateGalleryRequest, v1::Gallery>(
      *shards_,
      ToEveryShard<v1::CreateGalleryRequest, v1::Gallery>(*shards_,
                                                          shard_request),
      ShardDeadline(deadline), rpc::CreateGallery());
  absl::Status status =
      AllOkOr(*shards_, replies, absl::StatusCode::kAlreadyExists);
  if (!status.ok()) return status;
  if (req.has_policy()) {
    status = policies_->Save(req.name(), policy);
    if (!status.ok()) {
      return absl::Status(
          status.code(),
          absl::StrCat("gallery '", req.name(),
                       "' created, but its policy not stored (",
                       status.message(), "): run SetPolicy"));
    }
  }
  return DoGetGallery(req.name(), deadline, resp);
}

absl::Status RouterService::DoSetPolicy(const v1::SetPolicyRequest& req,
                                        absl::Time deadline,
                                        v1::Gallery* resp) {
  // The gallery must exist on the shards.
  auto gallery = AggregatedGallery(req.gallery(), deadline);
  if (!gallery.ok()) return gallery.status();
  const telemetry::Policy policy = req.clear()
                                       ? telemetry::Policy()
                                       : telemetry::FromPolicyProto(req.policy());
  if (!req.clear()) {
    absl::Status status = telemetry_->policy().CheckOverride(policy);
    if (!status.ok()) return status;
  }
  absl::Status status = policies_->Save(req.gallery(), policy);
  if (!status.ok()) return status;
  telemetry_->policy().Refresh(
      telemetry::PolicyGallery{req.gallery(), gallery->size(), policy});
  return DoGetGallery(req.gallery(), deadline, resp);
}

absl::Status RouterService::DoDeleteGallery(const v1::DeleteGalleryRequest& req,
                                            absl::Time deadline) {
  auto replies =
      FanOutAndWait<v1::DeleteGalleryRequest, v1::DeleteGalleryResponse>(
          *shards_,
          ToEveryShard<v1::DeleteGalleryRequest, v1::DeleteGalleryResponse>(
              *shards_, req),
          ShardDeadline(deadline), rpc::DeleteGallery());
  ForgetSize(req.name());
  absl::Status status = AllOkOr(*shards_, replies, absl::StatusCode::kNotFound);
  if (status.ok()) {
    telemetry_->calibrations().Forget(req.name());
    telemetry_->observer().ForgetGallery(req.name());
    policies_->Forget(req.name());
  }
  return status;
}

absl::Status RouterService::DoListGalleries(absl::Time deadline,
                                            v1::ListGalleriesResponse* resp) {
  auto replies =
      FanOutAndWait<v1::ListGalleriesRequest, v1::ListGalleriesResponse>(
          *shards_,
          ToEveryShard<v1::ListGalleriesRequest, v1::ListGalleriesResponse>(
              *shards_, v1::ListGalleriesRequest()),
          ShardDeadline(deadline), rpc::ListGalleries());
  absl::Status status = FirstError(*shards_, replies);
  if (!status.ok()) return status;
  std::map<std::string, std::vector<const v1::Gallery*>> by_name;
  for (const auto& r : replies) {
    for (const v1::Gallery& g : r.response.galleries()) {
      by_name[g.name()].push_back(&g);
    }
  }
  for (const auto& [name, parts] : by_name) {
    v1::Gallery* g = resp->add_galleries();
    *g = AggregateGallery(parts);
    const telemetry::PolicyGallery view{name, g->size(), policies_->Find(name)};
    *g->mutable_policy() = telemetry::ToPolicyProto(
        telemetry_->policy().Effective(view.override_policy));
    bool calibrated = false, stale = false;
    telemetry_->policy().Describe(view, &calibrated, &stale);
    g->set_calibrated(calibrated);
    g->set_calibration_stale(stale);
  }
  return absl::OkStatus();
}

absl::Status RouterService::DoCompactGallery(
    const v1::CompactGalleryRequest& req, absl::Time deadline,
    v1::CompactGalleryResponse* resp) {
  auto replies =
      FanOutAndWait<v1::CompactGalleryRequest, v1::CompactGalleryResponse>(
          *shards_,
          ToEveryShard<v1::CompactGalleryRequest, v1::CompactGalleryResponse>(
              *shards_, req),
          ShardDeadline(deadline), rpc::CompactGallery());
  absl::Status status = FirstError(*shards_, replies);
  if (!status.ok()) return status;
  for (const auto& r : replies) {
    resp->set_bytes_before(resp->bytes_before() + r.response.bytes_before());
    resp->set_bytes_after(resp->bytes_after() + r.response.bytes_after());
    resp->set_erased_entries(resp->erased_entries() +
                             r.response.erased_entries());
  }
  return absl::OkStatus();
}

absl::Status RouterService::DoTrainIndex(const v1::TrainIndexRequest& req,
                                         absl::Time deadline,
                                         v1::Gallery* resp) {
  // Each shard trains on its own entries: IVF lists are per shard.
  auto replies = FanOutAndWait<v1::TrainIndexRequest, v1::Gallery>(
      *shards_, ToEveryShard<v1::TrainIndexRequest, v1::Gallery>(*shards_, req),
      ShardDeadline(deadline), rpc::TrainIndex());
  absl::Status status = FirstError(*shards_, replies);
  if (!status.ok()) return status;
  return DoGetGallery(req.gallery(), deadline, resp);
}

absl::Status RouterService::DoGetStats(absl::Time deadline, v1::Stats* resp) {
  auto replies = FanOutAndWait<v1::GetStatsRequest, v1::Stats>(
      *shards_,
      ToEveryShard<v1::GetStatsRequest, v1::Stats>(*shards_,
                                                   v1::GetStatsRequest()),
      ShardDeadline(deadline), rpc::GetStats());
  absl::Status status = FirstError(*shards_, replies);
  if (!status.ok()) return status;
  uint64_t host = 0, device = 0;
  for (const auto& r : replies) {
    resp->set_galleries(std::max(resp->galleries(), r.response.galleries()));
    resp->set_entries(resp->entries() + r.response.entries());
    host += r.response.memory().host_bytes();
    device += r.response.memory().device_bytes();
  }
  const v1::Stats& first = replies.front().response;
  resp->set_backend(absl::StrCat("router(", shards_->size(),
                                 " shards: ", first.backend(), ")"));
  resp->set_device(first.device());
  resp->set_version(first.version());
  v1::MemoryUsage* memory = resp->mutable_memory();
  memory->set_host_bytes(host);
  memory->set_device_bytes(device);
  const double entries = static_cast<double>(resp->entries());
  memory->set_host_bytes_per_entry(entries > 0 ? host / entries : 0.0);
  memory->set_device_bytes_per_entry(entries > 0 ? device / entries : 0.0);
  return absl::OkStatus();
}

absl::Status RouterService::Do(const Ctx& ctx,
                               const v1::CreateGalleryRequest& req,
                               v1::Gallery* resp) {
  return DoCreateGallery(req, api::DeadlineOf(ctx), resp);
}

absl::Status RouterService::Do(const Ctx& ctx, const v1::GetGalleryRequest& req,
                               v1::Gallery* resp) {
  return DoGetGallery(req.name(), api::DeadlineOf(ctx), resp);
}

absl::Status RouterService::Do(const Ctx& ctx, const v1::ListGalleriesRequest&,
                               v1::ListGalleriesResponse* resp) {
  return DoListGalleries(api::DeadlineOf(ctx), resp);
}

absl::Status RouterService::Do(const Ctx& ctx,
                               const v1::DeleteGalleryRequest& req,
                               v1::DeleteGalleryResponse*) {
  return DoDeleteGallery(req, api::DeadlineOf(ctx));
}

absl::Status RouterService::Do(const Ctx& ctx,
                               const v1::CompactGalleryRequest& req,
                               v1::CompactGalleryResponse* resp) {
  return DoCompactGallery(req, api::DeadlineOf(ctx), resp);
}

absl::Status RouterService::Do(const Ctx& ctx, const v1::SetPolicyRequest& req,
                               v1::Gallery* resp) {
  return DoSetPolicy(req, api::DeadlineOf(ctx), resp);
}

absl::Status RouterService::Do(const Ctx& ctx, const v1::TrainIndexRequest& req,
                               v1::Gallery* resp) {
  return DoTrainIndex(req, api::DeadlineOf(ctx), resp);
}

absl::Status RouterService::Do(const Ctx& ctx, const v1::GetStatsRequest&,
                               v1::Stats* resp) {
  return DoGetStats(api::DeadlineOf(ctx), resp);
}

}  // namespace candor::router
