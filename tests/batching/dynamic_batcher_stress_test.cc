// Many submitting threads, several galleries of different dimensions, two
// workers, a small queue: every accepted request's callback runs exactly
// once with exactly the answer a direct search gives.
#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/batching/dynamic_batcher.h"
#include "tests/batching/batcher_test_util.h"
#include "tests/batching/fake_search.h"

namespace candor::batching {
namespace {

using testing::BruteForceGallery;
using testing::Completions;
using testing::RandomUnitRows;
using testing::RecordingSearch;

constexpr int kThreads = 8;
constexpr int kRequestsPerThread = 150;

struct Sent {
  std::string key;
  std::vector<float> probes;
  std::vector<ProbeQuery> queries;
};

TEST(DynamicBatcherStress, EveryCallbackOnceWithItsOwnAnswer) {
  const BruteForceGallery a(50, 8, 1), b(40, 16, 2), c(30, 8, 3);
  const std::map<std::string, const BruteForceGallery*> galleries = {
      {"a", &a}, {"b", &b}, {"c", &c}};
  RecordingSearch search(galleries, /*hold_first_call=*/false);
  BatcherOptions options;
  options.max_batch_probes = 16;
  options.max_queue_requests = 32;
  options.worker_threads = 2;
  auto batcher = DynamicBatcher::Create(options, search.AsSearchFn());
  ASSERT_TRUE(batcher.ok()) << batcher.status();

  constexpr int kTotal = kThreads * kRequestsPerThread;
  Completions done(kTotal);
  std::vector<Sent> sent(kTotal);
  std::atomic<int> rejected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(100 + t);
      const char* keys[] = {"a", "b", "c"};
      for (int i = 0; i < kRequestsPerThread; ++i) {
        const int id = t * kRequestsPerThread + i;
        Sent& s = sent[id];
        s.key = keys[rng() % 3];
        const int dim = galleries.at(s.key)->dim();
        const int n = 1 + static_cast<int>(rng() % 6);
        s.probes = RandomUnitRows(n, dim, rng);
        for (int p = 0; p < n; ++p) {
          s.queries.push_back(ProbeQuery{
              std::uniform_real_distribution<float>(-0.5f, 0.5f)(rng),
              1 + static_cast<int>(rng() % 8)});
        }
        // A full queue is an answer, not a failure: retry until taken.
        while (true) {
          absl::Status status = (*batcher)->Submit(
              testing::KeyOf(s.key), s.probes, dim, s.queries,
              absl::InfiniteFuture(), done.For(id));
          if (status.ok()) break;
          ASSERT_EQ(status.code(), absl::StatusCode::kResourceExhausted)
              << status;
          rejected.fetch_add(1);
          std::this_thread::yield();
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  done.Wait();
  (*batcher)->Shutdown();

  for (int id = 0; id < kTotal; ++id) {
    ASSERT_EQ(done.calls(id), 1) << id;
    auto result = done.result(id);
    ASSERT_TRUE(result.ok()) << id << ": " << result.status();
    const auto want =
        galleries.at(sent[id].key)->Search(sent[id].probes, sent[id].queries);
    ASSERT_EQ(result->candidates.size(), want->size()) << id;
    for (size_t p = 0; p < want->size(); ++p) {
      ASSERT_EQ(result->candidates[p].size(), (*want)[p].size()) << id;
      for (size_t k = 0; k < (*want)[p].size(); ++k) {
        EXPECT_EQ(result->candidates[p][k].entry_id, (*want)[p][k].entry_id);
        EXPECT_EQ(result->candidates[p][k].score, (*want)[p][k].score);
      }
    }
    EXPECT_GE(result->batch_probes, static_cast<int>(sent[id].queries.size()));
  }
  const BatcherStats stats = (*batcher)->Stats();
  EXPECT_EQ(stats.requests_searched, kTotal);
  EXPECT_EQ(stats.rejected_queue_full, rejected.load());
  // Batches never mix galleries and never exceed the limit (no request here
  // is larger than it).
  for (const auto& call : search.calls()) {
    EXPECT_LE(call.queries.size(), 16u);
    EXPECT_EQ(call.probes.size(),
              call.queries.size() * galleries.at(call.key)->dim());
  }
}

}  // namespace
}  // namespace candor::batching
