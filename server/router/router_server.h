// The router's assembly: shard set, telemetry and the gRPC server
// (candor.v1.Candor over the shards, grpc.health.v1, reflection).
#ifndef CANDOR_SERVER_ROUTER_ROUTER_SERVER_H_
#define CANDOR_SERVER_ROUTER_ROUTER_SERVER_H_

#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/grpcpp.h"
#include "server/router/router_options.h"
#include "server/router/router_service.h"
#include "server/security/call_gate.h"
#include "server/router/shard_set.h"
#include "server/telemetry/policy_store.h"
#include "server/telemetry/telemetry_units.h"

namespace candor::router {

class RouterServer {
 public:
  // Settles the shard list (--shards, or DNS: shard_dns.h), then serves.
  // Health turns SERVING once the shard list is known; a shard that is
  // down shows in the answers, not in the router's health.
  static absl::StatusOr<std::unique_ptr<RouterServer>> Start(
      RouterOptions options);
  ~RouterServer();

  int port() const { return port_; }
  int shard_count() const { return shards_->size(); }

  // NOT_SERVING, drain in-flight calls up to drain_timeout, stop the DNS
  // watch. Idempotent.
  void Shutdown();

 private:
  RouterServer() = default;
  // Re-resolves the shard names every dns_refresh and logs a changed count.
  void WatchDns();

  RouterOptions options_;
  int port_ = 0;
  std::unique_ptr<security::CallGate> gate_;
  std::unique_ptr<ShardSet> shards_;
  // Metrics (HTTP only with --metrics_listen), the threshold decision, the
  // calibrator and the audit log, as a server runs them.
  std::unique_ptr<telemetry::TelemetryUnits> telemetry_;
  std::unique_ptr<telemetry::PolicyStore> policies_;
  std::unique_ptr<RouterService> service_;
  std::unique_ptr<grpc::Server> server_;
  absl::Notification stop_;
  std::thread dns_watch_;
  bool shut_down_ = false;
};

}  // namespace candor::router

#endif  // CANDOR_SERVER_ROUTER_ROUTER_SERVER_H_
