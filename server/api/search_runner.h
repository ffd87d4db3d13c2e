// How the API layer runs an index search: through the dynamic batcher
// (disabled, it passes each request straight through). Free of gRPC types;
// completion through a callback so the gRPC reactor never blocks a thread
// waiting for a batch.
#ifndef CANDOR_SERVER_API_SEARCH_RUNNER_H_
#define CANDOR_SERVER_API_SEARCH_RUNNER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/types.h"
#include "server/api/options.h"
#include "server/batching/batcher_options.h"
#include "server/gallery/gallery.h"
#include "server/gallery/gallery_store.h"

namespace candor::api {

class SearchRunner {
 public:
  using Done = std::function<void(absl::StatusOr<SearchOutcome>)>;
  virtual ~SearchRunner() = default;
  // probes: queries.size() normalized rows (host). `done` is called exactly
  // once, on any thread, with the answer (candor::SearchOutcome).
  virtual void Run(std::shared_ptr<gallery::Gallery> gallery,
                   std::vector<float> probes, std::vector<ProbeQuery> queries,
                   absl::Time deadline, Done done) = 0;
  virtual void Shutdown() {}
  // The queue as it is now and counters (zeros for a runner without one).
  virtual batching::BatcherStats Stats() const { return {}; }
};

// Runs searches through the dynamic batcher (options.enabled = false makes
// it a pass-through with the same queue bound and deadline checks).
// `observer` (may be null) sees every index call.
absl::StatusOr<std::unique_ptr<SearchRunner>> MakeBatchedSearchRunner(
    const batching::BatcherOptions& options, gallery::GalleryStore* store,
    batching::BatchObserver* observer);

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_SEARCH_RUNNER_H_
