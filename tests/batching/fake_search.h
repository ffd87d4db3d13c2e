// Test doubles for the batcher: an exhaustive in-memory gallery (the
// oracle), a search function that records and can hold its calls, and a
// clock the test advances by hand.
#ifndef CANDOR_TESTS_BATCHING_FAKE_SEARCH_H_
#define CANDOR_TESTS_BATCHING_FAKE_SEARCH_H_

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/batching/batch_assembly.h"
#include "server/batching/batcher_options.h"
#include "server/batching/clock.h"
#include "server/common/types.h"
#include "tests/lib/random_rows.h"

namespace candor::batching::testing {

// The key a test's gallery `name` is submitted under: the same key for the
// same name throughout the process, a different one for another name.
BatchKey KeyOf(const std::string& name);

// Random unit rows, drawn as every test folder draws them.
using ::candor::testing::RandomUnitRows;

// `entries` random unit vectors; entry i has id 1000 + i, subject "s<i/2>",
// group "g<i%3>". Search is exact (float dot products, full sort).
class BruteForceGallery {
 public:
  BruteForceGallery(int entries, int dim, uint32_t seed);
  int dim() const { return dim_; }
  // A copy of entry i's vector (to build probes with known best matches).
  std::vector<float> Row(int i) const;
  absl::StatusOr<CandidateLists> Search(
      absl::Span<const float> probes,
      absl::Span<const ProbeQuery> queries) const;

 private:
  int dim_;
  int entries_;
  std::vector<float> vectors_;
};

// A SearchFn over named galleries (keys from KeyOf, found by their names)
// that records every call. With
// hold_first_call, the first call signals first_call_entered() and then
// waits for ReleaseFirstCall(), so a test can fill the queue behind it.
class RecordingSearch {
 public:
  struct Call {
    std::string key;  // the key's name
    std::vector<float> probes;
    std::vector<ProbeQuery> queries;
  };

  RecordingSearch(std::map<std::string, const BruteForceGallery*> galleries,
                  bool hold_first_call);

  SearchFn AsSearchFn();
  void WaitForFirstCall() { first_call_entered_.WaitForNotification(); }
  void ReleaseFirstCall() { release_first_call_.Notify(); }
  std::vector<Call> calls() const;
  // Makes every later call fail with `status` instead of searching.
  void FailWith(absl::Status status);

 private:
  absl::StatusOr<SearchOutcome> Search(const BatchKey& key,
                                       absl::Span<const float> probes,
                                       absl::Span<const ProbeQuery> queries);

  const std::map<std::string, const BruteForceGallery*> galleries_;
  const bool hold_first_call_;
  absl::Notification first_call_entered_;
  absl::Notification release_first_call_;
  mutable absl::Mutex mu_;
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_with_ ABSL_GUARDED_BY(mu_);
};

class FakeClock final : public Clock {
 public:
  absl::Time Now() const override;
  void Advance(absl::Duration d);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1'800'000'000);
};

}  // namespace candor::batching::testing

#endif  // CANDOR_TESTS_BATCHING_FAKE_SEARCH_H_
