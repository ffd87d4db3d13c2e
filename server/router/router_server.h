// The router's assembly: shard set, telemetry and the gRPC server
// (candor.v1.Candor over the shards, grpc.health.v1, reflection).
#ifndef CANDOR_SERVER_ROUTER_ROUTER_SERVER_H_
#define CANDOR_SERVER_ROUTER_ROUTER_SERVER_H_

#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "server/edge/edge_server.h"
#include "server/router/router_options.h"
#include "server/router/router_service.h"
#include "server/router/shard_set.h"
#include "server/telemetry/policy_store.h"
#include "server/telemetry/telemetry_units.h"

namespace candor::router {

class RouterServer final : public api::EdgeServer {
 public:
  // Settles the shard list (--shards, or DNS: shard_dns.h), then serves.
  // Health turns SERVING once the shard list is known; a shard that is
  // down shows in the answers, not in the router's health.
  static absl::StatusOr<std::unique_ptr<RouterServer>> Start(
      RouterOptions options);
  ~RouterServer() override { Shutdown(); }

  int shard_count() const { return shards_->size(); }

 private:
  RouterServer() : EdgeServer("router") {}
  // After the drain: the DNS watch.
  void StopServing() override;
  // Re-resolves the shard names every dns_refresh and logs a changed count.
  void WatchDns();

  RouterOptions options_;
  std::unique_ptr<ShardSet> shards_;
  // Metrics (HTTP only with --metrics_listen), the threshold decision, the
  // calibrator and the audit log, as a server runs them.
  std::unique_ptr<telemetry::TelemetryUnits> telemetry_;
  std::unique_ptr<telemetry::PolicyStore> policies_;
  std::unique_ptr<RouterService> service_;
  absl::Notification stop_;
  std::thread dns_watch_;
};

}  // namespace candor::router

#endif  // CANDOR_SERVER_ROUTER_ROUTER_SERVER_H_
