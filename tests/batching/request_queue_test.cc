#include "server/batching/request_queue.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace candor::batching {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const absl::Time kT0 = absl::FromUnixSeconds(1000);

// One key per gallery name, for the whole test: keys are equal only when
// they hold the same object.
BatchKey KeyOf(const std::string& name) {
  static auto* const targets = new std::map<std::string, std::shared_ptr<int>>;
  std::shared_ptr<int>& target = (*targets)[name];
  if (target == nullptr) target = std::make_shared<int>(0);
  return BatchKey(target, name);
}

// A request tagged by its first probe value, so batches can be read back.
std::unique_ptr<PendingRequest> Request(
    const std::string& key, int probes, float tag, absl::Time enqueued = kT0,
    absl::Time deadline = absl::InfiniteFuture()) {
  auto request = std::make_unique<PendingRequest>();
  request->key = KeyOf(key);
  request->dim = 1;
  request->probes.assign(probes, tag);
  request->queries.resize(probes);
  request->enqueued = enqueued;
  request->deadline = deadline;
  return request;
}

std::vector<float> Tags(const RequestList& batch) {
  std::vector<float> tags;
  for (const auto& request : batch) tags.push_back(request->probes.front());
  return tags;
}

// PopBatch, and the batch done at once (its lane released): the order in
// which a single worker takes batches.
RequestList Take(RequestQueue* queue, absl::Time now, const ReadyRule& rule,
                 RequestList* expired) {
  RequestList batch = queue->PopBatch(now, rule, expired);
  if (!batch.empty()) queue->Release(batch.front()->key, batch.front()->dim);
  return batch;
}

TEST(RequestQueue, FifoWithinAKeyUpToTheProbeLimit) {
  RequestQueue queue;
  for (int i = 0; i < 5; ++i) queue.Push(Request("a", 1, float(i)));
  EXPECT_EQ(queue.requests(), 5);
  EXPECT_EQ(queue.probes(), 5);
  RequestList expired;
  const ReadyRule rule{absl::ZeroDuration(), 2, false};
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(0, 1));
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(2, 3));
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(4));
  EXPECT_TRUE(queue.empty());
  EXPECT_THAT(Take(&queue, kT0, rule, &expired), IsEmpty());
  EXPECT_THAT(expired, IsEmpty());
}

TEST(RequestQueue, RoundRobinAcrossKeys) {
  RequestQueue queue;
  for (int i = 0; i < 6; ++i) queue.Push(Request("busy", 1, float(i)));
  queue.Push(Request("quiet", 1, 100));
  RequestList expired;
  const ReadyRule rule{absl::ZeroDuration(), 2, false};
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(0, 1));
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(100));
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(2, 3));
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(4, 5));
}

TEST(RequestQueue, SameKeyDifferentDimensionsNeverShareABatch) {
  RequestQueue queue;
  queue.Push(Request("a", 1, 1));
  auto wide = Request("a", 1, 2);
  wide->dim = 2;
  wide->probes.assign(2, 2.0f);
  queue.Push(std::move(wide));
  queue.Push(Request("a", 1, 3));
  RequestList expired;
  const ReadyRule rule{absl::ZeroDuration(), 100, false};
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(1, 3));
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(2));
}

TEST(RequestQueue, LargeRequestRunsAloneAndIsNotPassedBySmallOnes) {
  RequestQueue queue;
  queue.Push(Request("a", 1, 1));
  queue.Push(Request("a", 10, 2));
  queue.Push(Request("a", 1, 3));
  queue.Push(Request("a", 1, 4));
  RequestList expired;
  const ReadyRule rule{absl::ZeroDuration(), 4, false};
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(1));
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(2));
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(3, 4));
}

TEST(RequestQueue, WaitsForTheDelayUnlessFullOrFlushing) {
  RequestQueue queue;
  queue.Push(Request("a", 1, 1));
  RequestList expired;
  const ReadyRule wait{absl::Milliseconds(5), 2, false};
  EXPECT_EQ(queue.NextDue(wait), kT0 + absl::Milliseconds(5));
  EXPECT_THAT(Take(&queue, kT0, wait, &expired), IsEmpty());
  EXPECT_THAT(Take(&queue, kT0 + absl::Milliseconds(4), wait, &expired),
              IsEmpty());
  EXPECT_THAT(Tags(Take(&queue, kT0 + absl::Milliseconds(5), wait, &expired)),
              ElementsAre(1));

  queue.Push(Request("a", 1, 2));
  queue.Push(Request("a", 1, 3));
  EXPECT_THAT(Tags(Take(&queue, kT0, wait, &expired)), ElementsAre(2, 3));

  queue.Push(Request("a", 1, 4));
  const ReadyRule flush{absl::Milliseconds(5), 2, true};
  EXPECT_THAT(Tags(Take(&queue, kT0, flush, &expired)), ElementsAre(4));
  EXPECT_EQ(queue.NextDue(wait), absl::InfiniteFuture());
}

TEST(RequestQueue, ExpiredRequestsAreSetAsideNotBatched) {
  RequestQueue queue;
  const absl::Time soon = kT0 + absl::Milliseconds(1);
  queue.Push(Request("a", 1, 1, kT0, soon));
  queue.Push(Request("a", 1, 2));
  queue.Push(Request("a", 1, 3, kT0, soon));
  RequestList expired;
  const ReadyRule wait{absl::Hours(1), 100, false};
  // The head's deadline makes the lane due before the delay.
  EXPECT_EQ(queue.NextDue(wait), soon);
  EXPECT_THAT(Tags(Take(&queue, soon, wait, &expired)), ElementsAre(2));
  EXPECT_THAT(Tags(expired), ElementsAre(1, 3));
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.probes(), 0);
}

TEST(RequestQueue, ALaneRunsOneBatchAtATime) {
  RequestQueue queue;
  for (int i = 0; i < 4; ++i) queue.Push(Request("slow", 2, float(i)));
  RequestList expired;
  const ReadyRule rule{absl::ZeroDuration(), 2, false};
  RequestList running = queue.PopBatch(kT0, rule, &expired);
  EXPECT_THAT(Tags(running), ElementsAre(0));
  // Its backlog waits while that batch runs, even for a second worker.
  EXPECT_THAT(queue.PopBatch(kT0, rule, &expired), IsEmpty());
  EXPECT_EQ(queue.NextDue(rule), absl::InfiniteFuture());
  EXPECT_EQ(queue.requests(), 3);
  // Another gallery's search does not wait for it.
  queue.Push(Request("quick", 1, 100));
  EXPECT_EQ(queue.NextDue(rule), kT0);
  RequestList quick = queue.PopBatch(kT0, rule, &expired);
  EXPECT_THAT(Tags(quick), ElementsAre(100));
  EXPECT_FALSE(queue.Release(KeyOf("quick"), 1));
  EXPECT_TRUE(queue.Release(KeyOf("slow"), 1));
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(1));
  EXPECT_THAT(expired, IsEmpty());
}

TEST(RequestQueue, AQuietGalleryGoesAheadOfABusyOnesBacklog) {
  // A single worker: the quiet gallery's search, queued while the busy
  // gallery's batch ran, is next, before the rest of that backlog.
  RequestQueue queue;
  queue.Push(Request("busy", 2, 0));
  RequestList expired;
  const ReadyRule rule{absl::ZeroDuration(), 2, false};
  RequestList running = queue.PopBatch(kT0, rule, &expired);
  ASSERT_THAT(Tags(running), ElementsAre(0));
  for (int i = 1; i <= 3; ++i) queue.Push(Request("busy", 2, float(i)));
  queue.Push(Request("quiet", 1, 100));
  queue.Release(KeyOf("busy"), 1);
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(100));
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(1));
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(2));
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(3));
  EXPECT_TRUE(queue.empty());
}

TEST(RequestQueue, ReleaseOfAnEmptyLaneForgetsIt) {
  RequestQueue queue;
  queue.Push(Request("a", 1, 1));
  RequestList expired;
  const ReadyRule rule{absl::ZeroDuration(), 2, false};
  ASSERT_THAT(Tags(queue.PopBatch(kT0, rule, &expired)), ElementsAre(1));
  EXPECT_FALSE(queue.Release(KeyOf("a"), 1));
  EXPECT_FALSE(queue.Release(KeyOf("a"), 1));  // not busy any more: no effect
  queue.Push(Request("a", 1, 2));
  EXPECT_THAT(Tags(Take(&queue, kT0, rule, &expired)), ElementsAre(2));
  EXPECT_TRUE(queue.empty());
}

}  // namespace
}  // namespace candor::batching
