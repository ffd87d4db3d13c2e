// The SearchRunner that goes through the dynamic batcher: concurrent
// searches of one gallery become one index call.
#include "absl/strings/str_cat.h"
#include "server/api/search_runner.h"
#include "server/batching/dynamic_batcher.h"

namespace candor::api {
namespace {

// The batcher's key names one gallery incarnation: its name and creation
// time. A search queued for a gallery that is deleted, and perhaps created
// again under the same name, before its batch runs gets NotFound instead
// of the new gallery's answer.
std::string BatchKey(const gallery::Gallery& gallery) {
  return absl::StrCat(gallery.name(), "@", gallery.created_at_us());
}

absl::StatusOr<std::shared_ptr<gallery::Gallery>> GalleryOf(
    const gallery::GalleryStore& store, const std::string& key) {
  const size_t at = key.rfind('@');
  const std::string name = key.substr(0, at);
  auto gallery = store.Get(name);
  if (gallery.ok() && BatchKey(**gallery) == key) return gallery;
  return absl::NotFoundError(absl::StrCat(
      "gallery '", name, "' was deleted while the search was queued"));
}

class BatchedSearchRunner final : public SearchRunner {
 public:
  explicit BatchedSearchRunner(
      std::unique_ptr<batching::DynamicBatcher> batcher)
      : batcher_(std::move(batcher)) {}

  void Run(std::shared_ptr<gallery::Gallery> gallery, std::vector<float> probes,
           std::vector<ProbeQuery> queries, absl::Time deadline,
           Done done) override {
    const int dim = gallery->dimension();
    // The batcher takes `done` only when Submit succeeds; keep a copy to
    // report a refusal (full queue, passed deadline, shutdown).
    Done on_refusal = done;
    absl::Status submitted = batcher_->Submit(
        BatchKey(*gallery), std::move(probes), dim, std::move(queries),
        deadline,
        [done = std::move(done)](absl::StatusOr<batching::BatchResult> result) {
          if (!result.ok()) {
            done(result.status());
            return;
          }
          SearchOutcome outcome;
          outcome.candidates = std::move(result->candidates);
          outcome.version = result->version;
          outcome.queue_time = result->queue_time;
          outcome.search_time = result->search_time;
          done(std::move(outcome));
        });
    if (!submitted.ok()) on_refusal(submitted);
  }

  void Shutdown() override { batcher_->Shutdown(); }
  batching::BatcherStats Stats() const override { return batcher_->Stats(); }

 private:
  std::unique_ptr<batching::DynamicBatcher> batcher_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SearchRunner>> MakeBatchedSearchRunner(
    const batching::BatcherOptions& options, gallery::GalleryStore* store,
    batching::BatchObserver* observer) {
  auto search = [store](const std::string& key, absl::Span<const float> probes,
                        absl::Span<const ProbeQuery> queries, uint64_t* version)
      -> absl::StatusOr<std::vector<std::vector<Candidate>>> {
    auto gallery = GalleryOf(*store, key);
    if (!gallery.ok()) return gallery.status();
    return (*gallery)->Search(probes, queries, version);
  };
  auto batcher = batching::DynamicBatcher::Create(options, search, observer);
  if (!batcher.ok()) return batcher.status();
  return std::unique_ptr<SearchRunner>(
      new BatchedSearchRunner(*std::move(batcher)));
}

}  // namespace candor::api
