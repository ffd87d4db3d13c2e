#include "server/batching/dynamic_batcher.h"

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/batching/batcher_test_util.h"
#include "tests/batching/fake_search.h"

namespace candor::batching {
namespace {

using testing::BruteForceGallery;
using testing::Completions;
using testing::KeyOf;
using ::testing::ElementsAre;
using testing::FakeClock;
using testing::RandomUnitRows;
using testing::RecordingSearch;
using ::testing::SizeIs;

constexpr int kDim = 8;
const absl::Time kNoDeadline = absl::InfiniteFuture();

std::vector<ProbeQuery> Queries(int n, float threshold = -1.0f, int top_k = 3) {
  return std::vector<ProbeQuery>(n, ProbeQuery{threshold, top_k});
}

void ExpectSameLists(const CandidateLists& got, const CandidateLists& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t p = 0; p < got.size(); ++p) {
    ASSERT_EQ(got[p].size(), want[p].size()) << "probe " << p;
    for (size_t i = 0; i < got[p].size(); ++i) {
      EXPECT_EQ(got[p][i].entry_id, want[p][i].entry_id);
      EXPECT_EQ(got[p][i].subject_id, want[p][i].subject_id);
      EXPECT_EQ(got[p][i].score, want[p][i].score);
    }
  }
}

class DynamicBatcherTest : public ::testing::Test {
 protected:
  DynamicBatcherTest() : gallery_(64, kDim, 11), rng_(5) {}

  std::unique_ptr<DynamicBatcher> Make(const BatcherOptions& options,
                                       RecordingSearch* search,
                                       Clock* clock = nullptr) {
    auto batcher =
        DynamicBatcher::Create(options, search->AsSearchFn(), nullptr, clock);
    EXPECT_TRUE(batcher.ok()) << batcher.status();
    return *std::move(batcher);
  }

  std::vector<float> Probes(int n) { return RandomUnitRows(n, kDim, rng_); }

  // Submits a one-probe request that holds the only worker in its search.
  void OccupyWorker(DynamicBatcher* batcher, RecordingSearch* search,
                    Completions* done, int id = 0,
                    const std::string& key = "g") {
    ASSERT_TRUE(batcher
                    ->Submit(KeyOf(key), Probes(1), kDim, Queries(1),
                             kNoDeadline, done->For(id))
                    .ok());
    search->WaitForFirstCall();
  }

  BruteForceGallery gallery_;
  std::mt19937 rng_;
};

TEST_F(DynamicBatcherTest, RequestsQueuedBehindABusyWorkerShareOneCall) {
  RecordingSearch search({{"g", &gallery_}}, /*hold_first_call=*/true);
  auto batcher = Make(BatcherOptions{}, &search);
  constexpr int kRequests = 10;
  Completions done(kRequests + 1);
  OccupyWorker(batcher.get(), &search, &done);
  for (int i = 1; i <= kRequests; ++i) {
    ASSERT_TRUE(batcher
                    ->Submit(KeyOf("g"), Probes(1), kDim, Queries(1),
                             kNoDeadline, done.For(i))
                    .ok());
  }
  EXPECT_EQ(batcher->Stats().queued_requests, kRequests);
  search.ReleaseFirstCall();
  done.Wait();

  const auto calls = search.calls();
  ASSERT_THAT(calls, SizeIs(2));
  EXPECT_THAT(calls[1].queries, SizeIs(kRequests));
  for (int i = 1; i <= kRequests; ++i) {
    auto result = done.result(i);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->batch_probes, kRequests);
    EXPECT_EQ(result->version, 7u);
    // Request i's probe is row i - 1 of the merged call.
    const std::vector<float> probe(calls[1].probes.begin() + (i - 1) * kDim,
                                   calls[1].probes.begin() + i * kDim);
    ExpectSameLists(result->candidates, *gallery_.Search(probe, Queries(1)));
  }
  const BatcherStats stats = batcher->Stats();
  EXPECT_EQ(stats.batches_run, 2);
  EXPECT_EQ(stats.requests_searched, kRequests + 1);
  EXPECT_EQ(stats.queued_requests, 0);
}

TEST_F(DynamicBatcherTest, EachRequestKeepsItsOwnThresholdAndTopK) {
  RecordingSearch search({{"g", &gallery_}}, /*hold_first_call=*/true);
  auto batcher = Make(BatcherOptions{}, &search);
  struct Spec {
    int probes;
    float threshold;
    int top_k;
  };
  const std::vector<Spec> specs = {{2, -1.0f, 1},
                                   {1, 0.2f, 50},
                                   {3, 0.0f, 5},
                                   {1, 0.99f, 10},
                                   {2, -1.0f, 64}};
  Completions done(specs.size() + 1);
  OccupyWorker(batcher.get(), &search, &done, 100);
  std::vector<std::vector<float>> sent;
  for (size_t i = 0; i < specs.size(); ++i) {
    sent.push_back(Probes(specs[i].probes));
    // The last probe of each request is an enrolled vector: a sure match.
    const std::vector<float> row = gallery_.Row(static_cast<int>(i));
    std::copy(row.begin(), row.end(), sent.back().end() - kDim);
    ASSERT_TRUE(batcher
                    ->Submit(KeyOf("g"), sent.back(), kDim,
                             Queries(specs[i].probes, specs[i].threshold,
                                     specs[i].top_k),
                             kNoDeadline, done.For(static_cast<int>(i)))
                    .ok());
  }
  search.ReleaseFirstCall();
  done.Wait();
  ASSERT_THAT(search.calls(), SizeIs(2));
  for (size_t i = 0; i < specs.size(); ++i) {
    auto result = done.result(static_cast<int>(i));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->batch_probes, 9);
    const auto want = gallery_.Search(
        sent[i], Queries(specs[i].probes, specs[i].threshold, specs[i].top_k));
    ExpectSameLists(result->candidates, *want);
    for (const auto& list : result->candidates) {
      EXPECT_LE(list.size(), static_cast<size_t>(specs[i].top_k));
      for (const Candidate& c : list) EXPECT_GE(c.score, specs[i].threshold);
    }
    EXPECT_EQ(result->candidates.back().front().entry_id, 1000 + i);
  }
}

TEST_F(DynamicBatcherTest, FullQueueRejectsAtOnce) {
  RecordingSearch search({{"g", &gallery_}}, /*hold_first_call=*/true);
  BatcherOptions options;
  options.max_queue_requests = 2;
  auto batcher = Make(options, &search);
  Completions done(3);
  OccupyWorker(batcher.get(), &search, &done);
  for (int i = 1; i <= 2; ++i) {
    ASSERT_TRUE(batcher
                    ->Submit(KeyOf("g"), Probes(1), kDim, Queries(1),
                             kNoDeadline, done.For(i))
                    .ok());
  }
  const absl::Status full = batcher->Submit(
      KeyOf("g"), Probes(1), kDim, Queries(1), kNoDeadline, done.For(3));
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
  EXPECT_EQ(batcher->Stats().rejected_queue_full, 1);
  search.ReleaseFirstCall();
  done.Wait();
  batcher->Shutdown();
  EXPECT_EQ(done.calls(3), 0);
  EXPECT_TRUE(done.result(2).ok());
}

TEST_F(DynamicBatcherTest, RequestWhoseDeadlinePassesInTheQueueIsNotSearched) {
  FakeClock clock;
  RecordingSearch search({{"g", &gallery_}}, /*hold_first_call=*/true);
  auto batcher = Make(BatcherOptions{}, &search, &clock);
  Completions done(3);
  OccupyWorker(batcher.get(), &search, &done);
  const std::vector<float> late_probe = Probes(1);
  const std::vector<float> patient_probe = Probes(1);
  ASSERT_TRUE(batcher
                  ->Submit(KeyOf("g"), late_probe, kDim, Queries(1),
                           clock.Now() + absl::Milliseconds(1), done.For(1))
                  .ok());
  ASSERT_TRUE(batcher
                  ->Submit(KeyOf("g"), patient_probe, kDim, Queries(1),
                           kNoDeadline, done.For(2))
                  .ok());
  clock.Advance(absl::Milliseconds(2));
  // Already past: refused at the door.
  EXPECT_EQ(batcher
                ->Submit(KeyOf("g"), Probes(1), kDim, Queries(1), clock.Now(),
                         done.For(3))
                .code(),
            absl::StatusCode::kDeadlineExceeded);
  search.ReleaseFirstCall();
  done.Wait();

  EXPECT_EQ(done.result(1).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(done.result(2).ok());
  EXPECT_EQ(done.result(2)->queue_time, absl::Milliseconds(2));
  const auto calls = search.calls();
  ASSERT_THAT(calls, SizeIs(2));
  EXPECT_EQ(calls[1].probes, patient_probe);
  EXPECT_EQ(batcher->Stats().expired_deadline, 2);
}

// The key is the object, not its name: requests for two objects that share
// a name (a gallery deleted and created again while searches wait) never
// share an index call, and each call gets its own requests' key.
TEST_F(DynamicBatcherTest, KeysWithOneNameButTwoTargetsNeverShareACall) {
  RecordingSearch search({{"g", &gallery_}}, /*hold_first_call=*/true);
  std::vector<const void*> searched;
  absl::Mutex searched_mu;
  SearchFn recording = search.AsSearchFn();
  auto batcher = DynamicBatcher::Create(
      BatcherOptions{},
      [&](const BatchKey& key, absl::Span<const float> probes,
          absl::Span<const ProbeQuery> queries) {
        {
          absl::MutexLock lock(&searched_mu);
          searched.push_back(key.target<int>().get());
        }
        return recording(key, probes, queries);
      });
  ASSERT_TRUE(batcher.ok()) << batcher.status();
  const auto old_target = std::make_shared<int>(1);
  const auto new_target = std::make_shared<int>(2);
  const BatchKey old_key(old_target, "g"), new_key(new_target, "g");
  EXPECT_FALSE(old_key == new_key);
  Completions done(5);
  ASSERT_TRUE((*batcher)
                  ->Submit(old_key, Probes(1), kDim, Queries(1), kNoDeadline,
                           done.For(0))
                  .ok());
  search.WaitForFirstCall();
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE((*batcher)
                    ->Submit(i % 2 == 0 ? old_key : new_key, Probes(1), kDim,
                             Queries(1), kNoDeadline, done.For(i))
                    .ok());
  }
  search.ReleaseFirstCall();
  done.Wait();
  (*batcher)->Shutdown();
  // The held call, then one call per target for the four waiting requests.
  const auto calls = search.calls();
  ASSERT_THAT(calls, SizeIs(3));
  EXPECT_THAT(calls[1].queries, SizeIs(2));
  EXPECT_THAT(calls[2].queries, SizeIs(2));
  absl::MutexLock lock(&searched_mu);
  ASSERT_THAT(searched, SizeIs(3));
  EXPECT_EQ(searched[0], old_target.get());
  EXPECT_NE(searched[1], searched[2]);
  for (int i = 0; i <= 4; ++i) EXPECT_TRUE(done.result(i).ok()) << i;
}

TEST_F(DynamicBatcherTest, GalleriesAreServedRoundRobin) {
  BruteForceGallery other(32, kDim, 12);
  RecordingSearch search({{"busy", &gallery_}, {"quiet", &other}},
                         /*hold_first_call=*/true);
  BatcherOptions options;
  options.max_batch_probes = 2;
  auto batcher = Make(options, &search);
  Completions done(9);
  OccupyWorker(batcher.get(), &search, &done, 0, "busy");
  for (int i = 1; i <= 6; ++i) {
    ASSERT_TRUE(batcher
                    ->Submit(KeyOf("busy"), Probes(1), kDim, Queries(1),
                             kNoDeadline, done.For(i))
                    .ok());
  }
  for (int i = 7; i <= 8; ++i) {
    ASSERT_TRUE(batcher
                    ->Submit(KeyOf("quiet"), Probes(1), kDim, Queries(1),
                             kNoDeadline, done.For(i))
                    .ok());
  }
  search.ReleaseFirstCall();
  done.Wait();
  std::vector<std::string> keys;
  for (const auto& call : search.calls()) keys.push_back(call.key);
  // The quiet gallery, queued while the busy one's first batch ran, goes
  // next: it waits for that one batch, not for the busy gallery's backlog.
  EXPECT_THAT(keys, ElementsAre("busy", "quiet", "busy", "busy", "busy"));
  for (int i = 1; i <= 8; ++i) EXPECT_TRUE(done.result(i).ok()) << i;
}

// A slow gallery's backlog (here: five batches, each held until the end of
// the test) holds no other gallery's search while a second worker is free:
// a gallery runs one batch at a time, so the second worker takes the quick
// gallery's probe at once. Bounded: the quick search is given 20 s.
TEST_F(DynamicBatcherTest, SlowGalleryBacklogHoldsNoOtherGallerysSearch) {
  absl::Notification slow_entered, release_slow;
  std::atomic<int> slow_calls{0};
  SearchFn search = [&](const BatchKey& key, absl::Span<const float>,
                        absl::Span<const ProbeQuery> queries)
      -> absl::StatusOr<SearchOutcome> {
    if (key.name() == "slow") {
      if (slow_calls.fetch_add(1) == 0) slow_entered.Notify();
      release_slow.WaitForNotification();
    }
    SearchOutcome outcome;
    outcome.candidates.resize(queries.size());
    return outcome;
  };
  BatcherOptions options;
  options.max_batch_probes = 4;
  options.worker_threads = 2;
  auto batcher = DynamicBatcher::Create(options, search);
  ASSERT_TRUE(batcher.ok()) << batcher.status();
  constexpr int kSlowRequests = 5;
  Completions slow_done(kSlowRequests);
  for (int i = 0; i < kSlowRequests; ++i) {
    ASSERT_TRUE((*batcher)
                    ->Submit(KeyOf("slow"), Probes(4), kDim, Queries(4),
                             kNoDeadline, slow_done.For(i))
                    .ok());
  }
  slow_entered.WaitForNotification();
  absl::Notification quick_done;
  absl::StatusOr<SearchOutcome> quick = absl::UnknownError("not run");
  ASSERT_TRUE((*batcher)
                  ->Submit(KeyOf("quick"), Probes(1), kDim, Queries(1),
                           kNoDeadline,
                           [&](absl::StatusOr<SearchOutcome> result) {
                             quick = std::move(result);
                             quick_done.Notify();
                           })
                  .ok());
  const bool quick_finished =
      quick_done.WaitForNotificationWithTimeout(absl::Seconds(20));
  const int slow_started = slow_calls.load();
  release_slow.Notify();
  slow_done.Wait();
  ASSERT_TRUE(quick_finished)
      << "the quick gallery's search waited behind the slow gallery's batches";
  EXPECT_TRUE(quick.ok()) << quick.status();
  // It finished while the slow gallery's first batch was still running.
  EXPECT_EQ(slow_started, 1);
  for (int i = 0; i < kSlowRequests; ++i) EXPECT_TRUE(slow_done.result(i).ok());
  EXPECT_EQ((*batcher)->Stats().batches_run, kSlowRequests + 1);
}

TEST_F(DynamicBatcherTest, LargeRequestRunsAloneInItsTurn) {
  RecordingSearch search({{"g", &gallery_}}, /*hold_first_call=*/true);
  BatcherOptions options;
  options.max_batch_probes = 4;
  auto batcher = Make(options, &search);
  Completions done(5);
  OccupyWorker(batcher.get(), &search, &done);
  const std::vector<int> sizes = {1, 10, 1, 2};
  for (size_t i = 0; i < sizes.size(); ++i) {
    ASSERT_TRUE(batcher
                    ->Submit(KeyOf("g"), Probes(sizes[i]), kDim,
                             Queries(sizes[i]), kNoDeadline,
                             done.For(static_cast<int>(i) + 1))
                    .ok());
  }
  search.ReleaseFirstCall();
  done.Wait();
  std::vector<size_t> call_sizes;
  for (const auto& call : search.calls())
    call_sizes.push_back(call.queries.size());
  EXPECT_THAT(call_sizes, ElementsAre(1, 1, 10, 3));
  ASSERT_TRUE(done.result(2).ok());
  EXPECT_THAT(done.result(2)->candidates, SizeIs(10));
  EXPECT_EQ(done.result(2)->batch_probes, 10);
}

TEST_F(DynamicBatcherTest, DelayWaitsForCompanyUntilTheBatchIsFull) {
  RecordingSearch search({{"g", &gallery_}}, /*hold_first_call=*/false);
  BatcherOptions options;
  options.max_batch_probes = 4;
  options.max_queue_delay_us = absl::ToInt64Microseconds(absl::Hours(1));
  auto batcher = Make(options, &search);
  Completions done(4);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(batcher
                    ->Submit(KeyOf("g"), Probes(1), kDim, Queries(1),
                             kNoDeadline, done.For(i))
                    .ok());
  }
  done.Wait();
  ASSERT_THAT(search.calls(), SizeIs(1));
  EXPECT_THAT(search.calls()[0].queries, SizeIs(4));
}

TEST_F(DynamicBatcherTest, OffSwitchSearchesEachRequestOnTheCallersThread) {
  RecordingSearch search({{"g", &gallery_}}, /*hold_first_call=*/true);
  BatcherOptions options;
  options.enabled = false;
  auto batcher = Make(options, &search);
  Completions done(3);
  // The first request holds its own thread in the search; the others are
  // not queued behind it.
  std::thread held([&] {
    ASSERT_TRUE(batcher
                    ->Submit(KeyOf("g"), Probes(2), kDim, Queries(2),
                             kNoDeadline, done.For(0))
                    .ok());
  });
  search.WaitForFirstCall();
  for (int i = 1; i <= 2; ++i) {
    ASSERT_TRUE(batcher
                    ->Submit(KeyOf("g"), Probes(1), kDim, Queries(1),
                             kNoDeadline, done.For(i))
                    .ok());
    EXPECT_EQ(done.calls(i), 1) << "done ran before Submit returned";
  }
  EXPECT_EQ(done.calls(0), 0);
  search.ReleaseFirstCall();
  held.join();
  done.Wait();
  const auto calls = search.calls();
  ASSERT_THAT(calls, SizeIs(3));
  EXPECT_THAT(calls[0].queries, SizeIs(2));
  EXPECT_THAT(calls[1].queries, SizeIs(1));
  EXPECT_THAT(calls[2].queries, SizeIs(1));
  EXPECT_EQ(done.result(0)->batch_probes, 2);
  EXPECT_EQ(batcher->Stats().batches_run, 3);
}

TEST_F(DynamicBatcherTest, ShutdownFinishesQueuedRequestsThenRefuses) {
  RecordingSearch search({{"g", &gallery_}}, /*hold_first_call=*/true);
  BatcherOptions options;
  options.max_batch_probes = 2;
  options.max_queue_delay_us = absl::ToInt64Microseconds(absl::Hours(1));
  auto batcher = Make(options, &search);
  constexpr int kQueued = 5;
  Completions done(kQueued + 1);
  // With a one-hour delay only a full batch runs: two probes.
  ASSERT_TRUE(batcher
                  ->Submit(KeyOf("g"), Probes(2), kDim, Queries(2), kNoDeadline,
                           done.For(0))
                  .ok());
  search.WaitForFirstCall();
  for (int i = 1; i <= kQueued; ++i) {
    ASSERT_TRUE(batcher
                    ->Submit(KeyOf("g"), Probes(1), kDim, Queries(1),
                             kNoDeadline, done.For(i))
                    .ok());
  }
  std::thread stopper([&] { batcher->Shutdown(); });
  // Submit until the shutdown is visible; whatever got in is answered too.
  int accepted = 0;
  while (true) {
    absl::Status status = batcher->Submit(KeyOf("g"), Probes(1), kDim,
                                          Queries(1), kNoDeadline, [](auto) {});
    if (status.code() == absl::StatusCode::kUnavailable) break;
    if (status.ok()) ++accepted;
    std::this_thread::yield();
  }
  search.ReleaseFirstCall();
  stopper.join();
  done.Wait();
  for (int i = 0; i <= kQueued; ++i) {
    EXPECT_EQ(done.calls(i), 1) << i;
    EXPECT_TRUE(done.result(i).ok()) << i;
  }
  EXPECT_EQ(batcher->Stats().requests_searched, kQueued + 1 + accepted);
  EXPECT_EQ(batcher->Stats().queued_requests, 0);
  EXPECT_EQ(batcher
                ->Submit(KeyOf("g"), Probes(1), kDim, Queries(1), kNoDeadline,
                         [](auto) {})
                .code(),
            absl::StatusCode::kUnavailable);
  batcher->Shutdown();  // Idempotent.
}

TEST_F(DynamicBatcherTest, SearchErrorReachesEveryRequestOfTheBatch) {
  RecordingSearch search({{"g", &gallery_}}, /*hold_first_call=*/true);
  auto batcher = Make(BatcherOptions{}, &search);
  Completions done(4);
  OccupyWorker(batcher.get(), &search, &done);
  search.FailWith(absl::UnavailableError("device lost"));
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(batcher
                    ->Submit(KeyOf("g"), Probes(1), kDim, Queries(1),
                             kNoDeadline, done.For(i))
                    .ok());
  }
  search.ReleaseFirstCall();
  done.Wait();
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(done.result(i).status().code(), absl::StatusCode::kUnavailable);
  }
}

TEST_F(DynamicBatcherTest, RejectsMalformedRequestsAndOptions) {
  RecordingSearch search({{"g", &gallery_}}, /*hold_first_call=*/false);
  auto batcher = Make(BatcherOptions{}, &search);
  EXPECT_EQ(batcher->Submit(KeyOf("g"), {}, kDim, {}, kNoDeadline, [](auto) {})
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(batcher
                ->Submit(KeyOf("g"), Probes(2), kDim, Queries(3), kNoDeadline,
                         [](auto) {})
                .code(),
            absl::StatusCode::kInvalidArgument);
  BatcherOptions bad;
  bad.max_batch_probes = 0;
  EXPECT_EQ(DynamicBatcher::Create(bad, search.AsSearchFn()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DynamicBatcher::Create(BatcherOptions{}, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

class CountingObserver : public BatchObserver {
 public:
  void OnBatch(const BatchEvent& event) override {
    absl::MutexLock lock(&mu_);
    probes_.push_back(event.probes);
  }
  void OnDropped(const BatchKey& key, absl::StatusCode code) override {
    absl::MutexLock lock(&mu_);
    dropped_.push_back(code);
  }
  std::vector<int> probes() const {
    absl::MutexLock lock(&mu_);
    return probes_;
  }
  std::vector<absl::StatusCode> dropped() const {
    absl::MutexLock lock(&mu_);
    return dropped_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<int> probes_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::StatusCode> dropped_ ABSL_GUARDED_BY(mu_);
};

TEST_F(DynamicBatcherTest, ObserverSeesEveryBatchAndDrop) {
  RecordingSearch search({{"g", &gallery_}}, /*hold_first_call=*/true);
  CountingObserver observer;
  BatcherOptions options;
  options.max_queue_requests = 1;
  auto batcher =
      DynamicBatcher::Create(options, search.AsSearchFn(), &observer);
  ASSERT_TRUE(batcher.ok());
  Completions done(2);
  OccupyWorker(batcher->get(), &search, &done);
  ASSERT_TRUE((*batcher)
                  ->Submit(KeyOf("g"), Probes(3), kDim, Queries(3), kNoDeadline,
                           done.For(1))
                  .ok());
  EXPECT_FALSE((*batcher)
                   ->Submit(KeyOf("g"), Probes(1), kDim, Queries(1),
                            kNoDeadline, done.For(2))
                   .ok());
  search.ReleaseFirstCall();
  done.Wait();
  (*batcher)->Shutdown();
  EXPECT_THAT(observer.probes(), ElementsAre(1, 3));
  EXPECT_THAT(observer.dropped(),
              ElementsAre(absl::StatusCode::kResourceExhausted));
}

}  // namespace
}  // namespace candor::batching
