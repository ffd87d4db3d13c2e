// The SearchRunner that goes through the dynamic batcher: concurrent
// searches of one gallery become one index call.
#include "absl/strings/str_cat.h"
#include "server/api/search_runner.h"
#include "server/batching/dynamic_batcher.h"

namespace candor::api {
namespace {

// The batcher's key is the gallery object itself: a gallery deleted, and
// perhaps created again under its name, while a search waits is a different
// key, and the search finds its own gallery gone.
batching::BatchKey BatchKeyOf(std::shared_ptr<gallery::Gallery> gallery) {
  std::string name = gallery->name();
  return batching::BatchKey(std::move(gallery), std::move(name));
}

// The gallery a key holds, while the store still holds that very object
// under its name: a search queued for a gallery deleted meanwhile gets
// NotFound, never an answer from a gallery its caller can no longer see.
absl::StatusOr<std::shared_ptr<const gallery::Gallery>> GalleryOf(
    const gallery::GalleryStore& store, const batching::BatchKey& key) {
  std::shared_ptr<const gallery::Gallery> gallery =
      key.target<gallery::Gallery>();
  auto current = store.Get(key.name());
  if (current.ok() && current->get() == gallery.get()) return gallery;
  return absl::NotFoundError(absl::StrCat(
      "gallery '", key.name(), "' was deleted while the search was queued"));
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
        BatchKeyOf(std::move(gallery)), std::move(probes), dim,
        std::move(queries), deadline, std::move(done));
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
  auto search = [store](const batching::BatchKey& key,
                        absl::Span<const float> probes,
                        absl::Span<const ProbeQuery> queries)
      -> absl::StatusOr<SearchOutcome> {
    auto gallery = GalleryOf(*store, key);
    if (!gallery.ok()) return gallery.status();
    return (*gallery)->Search(probes, queries);
  };
  auto batcher = batching::DynamicBatcher::Create(options, search, observer);
  if (!batcher.ok()) return batcher.status();
  return std::unique_ptr<SearchRunner>(
      new BatchedSearchRunner(*std::move(batcher)));
}

}  // namespace candor::api
