// Collects the callbacks of a batcher test: how often each request's `done`
// ran and what it got.
#ifndef CANDOR_TESTS_BATCHING_BATCHER_TEST_UTIL_H_
#define CANDOR_TESTS_BATCHING_BATCHER_TEST_UTIL_H_

#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "server/batching/batcher_options.h"

namespace candor::batching::testing {

class Completions {
 public:
  // `expected`: callbacks Wait() waits for.
  explicit Completions(int expected) : pending_(expected) {}

  DoneFn For(int id) {
    return [this, id](absl::StatusOr<SearchOutcome> result) {
      {
        absl::MutexLock lock(&mu_);
        ++calls_[id];
        results_.insert_or_assign(id, std::move(result));
      }
      pending_.DecrementCount();
    };
  }
  void Wait() { pending_.Wait(); }
  int calls(int id) const {
    absl::MutexLock lock(&mu_);
    auto it = calls_.find(id);
    return it == calls_.end() ? 0 : it->second;
  }
  absl::StatusOr<SearchOutcome> result(int id) const {
    absl::MutexLock lock(&mu_);
    auto it = results_.find(id);
    if (it == results_.end()) return absl::NotFoundError("no callback");
    return it->second;
  }

 private:
  absl::BlockingCounter pending_;
  mutable absl::Mutex mu_;
  std::map<int, int> calls_ ABSL_GUARDED_BY(mu_);
  std::map<int, absl::StatusOr<SearchOutcome>> results_ ABSL_GUARDED_BY(mu_);
};

}  // namespace candor::batching::testing

#endif  // CANDOR_TESTS_BATCHING_BATCHER_TEST_UTIL_H_
