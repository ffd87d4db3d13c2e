// What both roles set on their gRPC server: its limits, reflection kept
// off when configured so, and the start-up line's summary of how callers
// are admitted.
#ifndef CANDOR_SERVER_EDGE_SERVING_H_
#define CANDOR_SERVER_EDGE_SERVING_H_

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "server/api/options.h"
#include "server/security/security_options.h"

namespace candor::api {

// "TLS, client certificates, authorization policy", or "plaintext": how
// callers are admitted, for the start-up log line.
std::string SecuritySummary(const security::SecurityOptions& security);

// The gRPC server limits of both roles: a ResourceQuota (memory, threads),
// concurrent streams per connection, keepalive enforcement (pings without
// calls refused, a minimum ping interval), connection idle and age limits,
// and a handshake deadline.
void ApplyGrpcLimits(const GrpcLimitOptions& limits,
                     grpc::ServerBuilder* builder);

// Serves `service` on options.listen with grpc.health.v1 (SERVING once
// started), reflection unless options.security turns it off, the message
// size limit and ApplyGrpcLimits; *port gets the port bound. Unavailable
// when it cannot listen.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const ServerOptions& options,
    std::shared_ptr<grpc::ServerCredentials> credentials,
    grpc::Service* service, int* port);

// A ServerBuilder option that keeps the reflection plugin (enabled process
// wide by InitProtoReflectionServerBuilderPlugin) off this server.
class NoReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(
      std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins)
      override {
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [](const auto& plugin) {
                                    return plugin->name() ==
                                           "proto_server_reflection";
                                  }),
                   plugins->end());
  }
};

}  // namespace candor::api

#endif  // CANDOR_SERVER_EDGE_SERVING_H_
