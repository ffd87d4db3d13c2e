// candor-server's assembly: the gallery store, telemetry, the search runner
// and the gRPC server (Candor service, grpc.health.v1, reflection).
#ifndef CANDOR_SERVER_API_SERVER_H_
#define CANDOR_SERVER_API_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "server/api/candor_service.h"
#include "server/api/options.h"
#include "server/api/search_runner.h"
#include "server/api/telemetry_hub.h"
#include "server/gallery/gallery_store.h"
#include "server/security/call_gate.h"

namespace candor::api {

class CandorServer {
 public:
  // Opens the data directory, chooses the backend and starts serving.
  static absl::StatusOr<std::unique_ptr<CandorServer>> Start(
      ServerOptions options);
  ~CandorServer();

  // The port bound (useful with --listen=127.0.0.1:0).
  int port() const { return port_; }
  const std::string& backend() const { return backend_; }

  // Stops accepting calls, reports NOT_SERVING, waits for in-flight calls
  // up to options.drain_timeout (then cancels them), stops the search
  // workers and the store's background work. Idempotent.
  void Shutdown();

 private:
  CandorServer() = default;

  ServerOptions options_;
  std::string backend_;
  int port_ = 0;
  std::unique_ptr<gallery::GalleryStore> store_;
  std::unique_ptr<TelemetryHub> telemetry_;
  std::unique_ptr<SearchRunner> runner_;
  std::unique_ptr<security::CallGate> gate_;
  std::unique_ptr<CandorService> service_;
  std::unique_ptr<grpc::Server> server_;
  bool shut_down_ = false;
};

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_SERVER_H_
