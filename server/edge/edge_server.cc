#include "server/edge/edge_server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/common/log.h"
#include "server/edge/serving.h"
#include "server/security/credentials.h"

namespace candor::api {

absl::Status EdgeServer::SetUpAdmission(const ServerOptions& options) {
  auto credentials =
      security::MakeServerCredentials(options.security, options.listen);
  if (!credentials.ok()) return credentials.status();
  credentials_ = *std::move(credentials);
  auto gate = security::CallGate::Create(options.security);
  if (!gate.ok()) return gate.status();
  gate_ = *std::move(gate);
  return absl::OkStatus();
}

absl::Status EdgeServer::Serve(const ServerOptions& options,
                               grpc::Service* service) {
  auto server = StartGrpcServer(options, credentials_, service, &port_);
  if (!server.ok()) return server.status();
  server_ = *std::move(server);
  drain_timeout_ = options.drain_timeout;
  return absl::OkStatus();
}

void EdgeServer::Shutdown() {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  LogInfo(absl::StrCat(role_, " shutting down: draining in-flight calls"));
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + drain_timeout_));
  StopServing();
  // Before the role's service goes (a gRPC server must not outlive its
  // services).
  server_.reset();
  LogInfo("shutdown complete");
}

}  // namespace candor::api
