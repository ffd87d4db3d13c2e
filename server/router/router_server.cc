#include "server/router/router_server.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/log.h"
#include "server/edge/serving.h"
#include "server/edge/telemetry_options.h"
#include "server/security/credentials.h"
#include "server/router/shard_dns.h"

namespace candor::router {
namespace {

// Shard pods of a StatefulSet appear within seconds of each other; a shard
// loading a large snapshot still has its name (publishNotReadyAddresses).
constexpr absl::Duration kDnsSettleInterval = absl::Seconds(2);
constexpr absl::Duration kDnsSettleTimeout = absl::Minutes(10);

}  // namespace

absl::StatusOr<std::unique_ptr<RouterServer>> RouterServer::Start(
    RouterOptions options) {
  if (options.shards.empty() == options.shards_dns.empty()) {
    return absl::InvalidArgumentError(
        "--role=router needs exactly one of --shards and --shards_dns");
  }
  if (!options.shards_dns.empty()) {
    auto names = WaitForShardNames(options.shards_dns, options.shard_count,
                                   kDnsSettleInterval, kDnsSettleTimeout);
    if (!names.ok()) return names.status();
    options.shards = *std::move(names);
  }
  std::unique_ptr<RouterServer> server(new RouterServer());
  absl::Status admission = server->SetUpAdmission(options.server);
  if (!admission.ok()) return admission;
  auto shard_credentials = security::MakeShardChannelCredentials(
      options.server.security, options.shard_tls_ca);
  if (!shard_credentials.ok()) return shard_credentials.status();
  server->options_ = options;
  server->shards_ = std::make_unique<ShardSet>(
      options.shards, options.server.limits.max_message_bytes,
      *shard_credentials, /*mtls=*/!options.shard_tls_ca.empty());
  LogInfo(absl::StrCat("router over ", options.shards.size(),
                       " shards: ", absl::StrJoin(options.shards, ", ")));
  // The telemetry a server runs, over the whole gallery: calibrations,
  // per-gallery policies and the audit log in the router's data_dir.
  const std::string& data_dir = options.server.store.data_dir;
  auto telemetry = telemetry::TelemetryUnits::Open(api::TelemetryOptionsFor(
      options.server,
      data_dir.empty() ? std::string() : data_dir + "/router-calibrations",
      "run Calibrate through the router"));
  if (!telemetry.ok()) return telemetry.status();
  server->telemetry_ = *std::move(telemetry);
  server->telemetry_->metrics().SetBackendInfo("router", "");
  if (!options.server.metrics_listen.empty()) {
    LogInfo(absl::StrCat("metrics on http://", options.server.metrics_listen,
                         "/metrics, bound to tcp ",
                         server->telemetry_->metrics().http_port()));
  }
  if (data_dir.empty()) {
    server->policies_ = std::make_unique<telemetry::PolicyStore>();
  } else {
    auto policies = telemetry::PolicyStore::Open(data_dir + "/router-policies");
    if (!policies.ok()) return policies.status();
    server->policies_ = *std::move(policies);
  }
  server->service_ = std::make_unique<RouterService>(
      options, server->shards_.get(), server->telemetry_.get(),
      server->policies_.get(), server->gate());

  absl::Status serving = server->Serve(options.server, server->service_.get());
  if (!serving.ok()) return serving;
  if (!options.shards_dns.empty()) {
    server->dns_watch_ = std::thread([s = server.get()] { s->WatchDns(); });
  }
  LogInfo(absl::StrCat("serving candor.v1.Candor as a router on ",
                       options.server.listen, " (port ", server->port(), "), ",
                       api::SecuritySummary(options.server.security),
                       options.shard_tls_ca.empty() ? ", plaintext to shards"
                                                    : ", mTLS to shards"));
  return server;
}

void RouterServer::WatchDns() {
  while (!stop_.WaitForNotificationWithTimeout(options_.dns_refresh)) {
    auto names = ResolveShardNames(options_.shards_dns);
    if (!names.ok()) {
      LogWarning(
          absl::StrCat("re-resolving shards: ", names.status().ToString()));
      continue;
    }
    if (static_cast<int>(names->size()) != shards_->size()) {
      LogError(absl::StrCat(
          options_.shards_dns, " now names ", names->size(),
          " shards; this router keeps the ", shards_->size(),
          " it started with (a new count moves subjects between shards, "
          "which the router does not do): restore the shard count"));
    }
  }
}

void RouterServer::StopServing() {
  stop_.Notify();
  if (dns_watch_.joinable()) dns_watch_.join();
}

}  // namespace candor::router
