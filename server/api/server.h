// candor-server's assembly: the gallery store, telemetry, the search runner
// and the gRPC server (Candor service, grpc.health.v1, reflection).
#ifndef CANDOR_SERVER_API_SERVER_H_
#define CANDOR_SERVER_API_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/api/candor_service.h"
#include "server/api/options.h"
#include "server/api/search_runner.h"
#include "server/api/telemetry_hub.h"
#include "server/edge/edge_server.h"
#include "server/gallery/gallery_store.h"

namespace candor::api {

class CandorServer final : public EdgeServer {
 public:
  // Opens the data directory, chooses the backend and starts serving.
  static absl::StatusOr<std::unique_ptr<CandorServer>> Start(
      ServerOptions options);
  ~CandorServer() override { Shutdown(); }

  const std::string& backend() const { return backend_; }

 private:
  CandorServer() : EdgeServer("server") {}
  // After the drain: the blocking executors, the search workers and the
  // store's background work.
  void StopServing() override;

  ServerOptions options_;
  std::string backend_;
  std::unique_ptr<gallery::GalleryStore> store_;
  std::unique_ptr<TelemetryHub> telemetry_;
  std::unique_ptr<SearchRunner> runner_;
  std::unique_ptr<CandorService> service_;
};

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_SERVER_H_
