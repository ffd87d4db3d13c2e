// The batcher's queue is bounded by bytes of probes as well as by requests:
// a few huge searches cannot fill memory while the worker is busy.
#include <memory>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "server/batching/dynamic_batcher.h"
#include "server/batching/request_queue.h"
#include "tests/batching/batcher_test_util.h"
#include "tests/batching/fake_search.h"

namespace candor::batching {
namespace {

using testing::BruteForceGallery;
using testing::Completions;
using testing::KeyOf;
using testing::RandomUnitRows;
using testing::RecordingSearch;

constexpr int kDim = 8;
constexpr int64_t kRowBytes = kDim * sizeof(float);

std::vector<ProbeQuery> Queries(int n) {
  return std::vector<ProbeQuery>(n, ProbeQuery{-1.0f, 3});
}

TEST(QueueBytesTest, RequestQueueCountsProbeBytes) {
  RequestQueue queue;
  std::mt19937 rng(1);
  for (int rows : {2, 5}) {
    auto request = std::make_unique<PendingRequest>();
    request->key = KeyOf("g");
    request->dim = kDim;
    request->probes = RandomUnitRows(rows, kDim, rng);
    request->queries = Queries(rows);
    queue.Push(std::move(request));
  }
  EXPECT_EQ(queue.bytes(), 7 * kRowBytes);
  RequestList expired;
  ReadyRule rule;
  rule.flush = true;
  EXPECT_EQ(queue.PopBatch(absl::Now(), rule, &expired).size(), 2u);
  EXPECT_EQ(queue.bytes(), 0);
}

TEST(QueueBytesTest, SearchPastQueuedBytesRefused) {
  BruteForceGallery gallery(64, kDim, 11);
  RecordingSearch search({{"g", &gallery}}, /*hold_first_call=*/true);
  BatcherOptions options;
  options.max_queued_bytes = 10 * kRowBytes;
  auto batcher = DynamicBatcher::Create(options, search.AsSearchFn());
  ASSERT_TRUE(batcher.ok()) << batcher.status();
  std::mt19937 rng(2);
  Completions done(3);
  // The first search holds the only worker; the queue is empty behind it.
  ASSERT_TRUE((*batcher)
                  ->Submit(KeyOf("g"), RandomUnitRows(1, kDim, rng), kDim,
                           Queries(1), absl::InfiniteFuture(), done.For(0))
                  .ok());
  search.WaitForFirstCall();
  ASSERT_TRUE((*batcher)
                  ->Submit(KeyOf("g"), RandomUnitRows(8, kDim, rng), kDim,
                           Queries(8), absl::InfiniteFuture(), done.For(1))
                  .ok());
  // 8 + 3 rows would pass 10 rows' bytes: refused, whatever the count.
  const absl::Status full =
      (*batcher)->Submit(KeyOf("g"), RandomUnitRows(3, kDim, rng), kDim,
                         Queries(3), absl::InfiniteFuture(), done.For(9));
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
  EXPECT_NE(full.message().find("--max_queued_bytes"), std::string::npos)
      << full;
  // 8 + 2 fit.
  ASSERT_TRUE((*batcher)
                  ->Submit(KeyOf("g"), RandomUnitRows(2, kDim, rng), kDim,
                           Queries(2), absl::InfiniteFuture(), done.For(2))
                  .ok());
  search.ReleaseFirstCall();
  done.Wait();
  (*batcher)->Shutdown();
  EXPECT_EQ(done.calls(9), 0);
  EXPECT_TRUE(done.result(1).ok());
  EXPECT_TRUE(done.result(2).ok());
}

}  // namespace
}  // namespace candor::batching
