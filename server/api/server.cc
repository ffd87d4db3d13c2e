#include "server/api/server.h"

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/edge/serving.h"
#include "server/telemetry/metrics.h"

namespace candor::api {

absl::StatusOr<std::unique_ptr<CandorServer>> CandorServer::Start(
    ServerOptions options) {
  auto resolved = index::ResolveBackend(options.backend);
  if (!resolved.ok()) return resolved.status();
  options.store.gallery.backend = *resolved;

  std::unique_ptr<CandorServer> server(new CandorServer());
  absl::Status admission = server->SetUpAdmission(options);
  if (!admission.ok()) return admission;
  server->options_ = options;
  server->backend_ = index::BackendName(*resolved);
  LogInfo(absl::StrCat("backend: ", server->backend_, " (requested ",
                       index::BackendName(options.backend), ")"));

  // The galleries' WAL fsync times, exported by the telemetry hub (which
  // is created after the store, yet sees every sync).
  auto wal_fsync = std::make_shared<telemetry::SharedLatency>();
  options.store.gallery.on_wal_sync = [wal_fsync](absl::Duration d) {
    wal_fsync->Observe(absl::ToDoubleSeconds(d));
  };
  auto store = gallery::GalleryStore::Open(options.store);
  if (!store.ok()) return store.status();
  server->store_ = *std::move(store);
  auto telemetry = TelemetryHub::Create(options);
  if (!telemetry.ok()) return telemetry.status();
  server->telemetry_ = *std::move(telemetry);
  server->telemetry_->SetBackend(server->backend_, "");
  // Two batcher workers (ServerBatchingDefaults in options.h says why).
  auto runner = MakeBatchedSearchRunner(options.batching, server->store_.get(),
                                        server->telemetry_->batch_observer());
  if (!runner.ok()) return runner.status();
  server->runner_ = *std::move(runner);
  server->telemetry_->Attach(server->store_.get(), server->runner_.get(),
                             wal_fsync);
  LogInfo(absl::StrCat("batching ", options.batching.enabled ? "on" : "off",
                       ", max ", options.batching.max_batch_probes,
                       " probes per index call, max queue delay ",
                       options.batching.max_queue_delay_us, " us"));
  server->service_ = std::make_unique<CandorService>(
      options, server->store_.get(), server->runner_.get(),
      server->telemetry_.get(), server->gate());

  absl::Status serving = server->Serve(options, server->service_.get());
  if (!serving.ok()) return serving;
  LogInfo(absl::StrCat("serving candor.v1.Candor on ", options.listen,
                       " (port ", server->port(), "), data dir ",
                       options.store.data_dir, ", ",
                       SecuritySummary(options.security)));
  return server;
}

void CandorServer::StopServing() {
  service_->Shutdown();  // its blocking work, before the runner it uses
  telemetry_->Detach();  // scrapes stop reading the runner and the store
  runner_->Shutdown();
  store_->Shutdown();
}

}  // namespace candor::api
