// What both roles' servers share: how callers are admitted (credentials,
// the call gate), the gRPC server they serve on, its port, and the one way
// they stop (NOT_SERVING, drain, then the role's own work).
// CandorServer (server/api/server.h) and RouterServer
// (server/router/router_server.h) derive from it; main.cc runs either as
// an EdgeServer.
#ifndef CANDOR_SERVER_EDGE_EDGE_SERVER_H_
#define CANDOR_SERVER_EDGE_EDGE_SERVER_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "server/api/options.h"
#include "server/security/call_gate.h"

namespace candor::api {

class EdgeServer {
 public:
  EdgeServer(const EdgeServer&) = delete;
  EdgeServer& operator=(const EdgeServer&) = delete;
  // A role's destructor calls Shutdown(): StopServing needs its members.
  virtual ~EdgeServer() = default;

  // The port bound (useful with --listen=127.0.0.1:0).
  int port() const { return port_; }

  // Stops accepting calls, reports NOT_SERVING, waits for in-flight calls
  // up to the options' drain_timeout (then cancels them), then stops the
  // role's own work (StopServing). Idempotent; nothing to do before Serve.
  void Shutdown();

 protected:
  // `role` names the server in its shutdown log lines.
  explicit EdgeServer(const char* role) : role_(role) {}

  // First, before the role opens anything (a server that may not listen
  // as configured touches no data): the listener's credentials and the
  // call gate, from options.security.
  absl::Status SetUpAdmission(const ServerOptions& options);
  // The gate every call passes; owned here, it outlives the role's service.
  const security::CallGate* gate() const { return gate_.get(); }

  // Serves `service` on options.listen with those credentials
  // (StartGrpcServer, serving.h); port() is the port bound from then on.
  // Unavailable when it cannot listen.
  absl::Status Serve(const ServerOptions& options, grpc::Service* service);

  // The role's work that stops once no call is in flight: called once, by
  // Shutdown, after the drain.
  virtual void StopServing() = 0;

 private:
  const char* const role_;
  std::shared_ptr<grpc::ServerCredentials> credentials_;
  std::unique_ptr<security::CallGate> gate_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  absl::Duration drain_timeout_;
  bool shut_down_ = false;
};

}  // namespace candor::api

#endif  // CANDOR_SERVER_EDGE_EDGE_SERVER_H_
