#include "absl/time/clock.h"
#include "server/api/search_runner.h"

namespace candor::api {
namespace {

class DirectSearchRunner final : public SearchRunner {
 public:
  void Run(std::shared_ptr<gallery::Gallery> gallery, std::vector<float> probes,
           std::vector<ProbeQuery> queries, absl::Time deadline,
           Done done) override {
    if (absl::Now() > deadline) {
      done(absl::DeadlineExceededError("deadline passed before the search"));
      return;
    }
    const absl::Time start = absl::Now();
    SearchOutcome outcome;
    auto candidates = gallery->Search(probes, queries, &outcome.version);
    if (!candidates.ok()) {
      done(candidates.status());
      return;
    }
    outcome.candidates = *std::move(candidates);
    outcome.search_time = absl::Now() - start;
    done(std::move(outcome));
  }
};

}  // namespace

std::unique_ptr<SearchRunner> MakeDirectSearchRunner() {
  return std::make_unique<DirectSearchRunner>();
}

}  // namespace candor::api
