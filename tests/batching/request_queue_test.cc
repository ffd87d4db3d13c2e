#include "server/batching/request_queue.h"

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

// A request tagged by its first probe value, so batches can be read back.
std::unique_ptr<PendingRequest> Request(
    const std::string& key, int probes, float tag, absl::Time enqueued = kT0,
    absl::Time deadline = absl::InfiniteFuture()) {
  auto request = std::make_unique<PendingRequest>();
  request->key = key;
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

TEST(RequestQueue, FifoWithinAKeyUpToTheProbeLimit) {
  RequestQueue queue;
  for (int i = 0; i < 5; ++i) queue.Push(Request("a", 1, float(i)));
  EXPECT_EQ(queue.requests(), 5);
  EXPECT_EQ(queue.probes(), 5);
  RequestList expired;
  const ReadyRule rule{absl::ZeroDuration(), 2, false};
  EXPECT_THAT(Tags(queue.PopBatch(kT0, rule, &expired)), ElementsAre(0, 1));
  EXPECT_THAT(Tags(queue.PopBatch(kT0, rule, &expired)), ElementsAre(2, 3));
  EXPECT_THAT(Tags(queue.PopBatch(kT0, rule, &expired)), ElementsAre(4));
  EXPECT_TRUE(queue.empty());
  EXPECT_THAT(queue.PopBatch(kT0, rule, &expired), IsEmpty());
  EXPECT_THAT(expired, IsEmpty());
}

TEST(RequestQueue, RoundRobinAcrossKeys) {
  RequestQueue queue;
  for (int i = 0; i < 6; ++i) queue.Push(Request("busy", 1, float(i)));
  queue.Push(Request("quiet", 1, 100));
  RequestList expired;
  const ReadyRule rule{absl::ZeroDuration(), 2, false};
  EXPECT_THAT(Tags(queue.PopBatch(kT0, rule, &expired)), ElementsAre(0, 1));
  EXPECT_THAT(Tags(queue.PopBatch(kT0, rule, &expired)), ElementsAre(100));
  EXPECT_THAT(Tags(queue.PopBatch(kT0, rule, &expired)), ElementsAre(2, 3));
  EXPECT_THAT(Tags(queue.PopBatch(kT0, rule, &expired)), ElementsAre(4, 5));
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
  EXPECT_THAT(Tags(queue.PopBatch(kT0, rule, &expired)), ElementsAre(1, 3));
  EXPECT_THAT(Tags(queue.PopBatch(kT0, rule, &expired)), ElementsAre(2));
}

TEST(RequestQueue, LargeRequestRunsAloneAndIsNotPassedBySmallOnes) {
  RequestQueue queue;
  queue.Push(Request("a", 1, 1));
  queue.Push(Request("a", 10, 2));
  queue.Push(Request("a", 1, 3));
  queue.Push(Request("a", 1, 4));
  RequestList expired;
  const ReadyRule rule{absl::ZeroDuration(), 4, false};
  EXPECT_THAT(Tags(queue.PopBatch(kT0, rule, &expired)), ElementsAre(1));
  EXPECT_THAT(Tags(queue.PopBatch(kT0, rule, &expired)), ElementsAre(2));
  EXPECT_THAT(Tags(queue.PopBatch(kT0, rule, &expired)), ElementsAre(3, 4));
}

TEST(RequestQueue, WaitsForTheDelayUnlessFullOrFlushing) {
  RequestQueue queue;
  queue.Push(Request("a", 1, 1));
  RequestList expired;
  const ReadyRule wait{absl::Milliseconds(5), 2, false};
  EXPECT_EQ(queue.NextDue(wait), kT0 + absl::Milliseconds(5));
  EXPECT_THAT(queue.PopBatch(kT0, wait, &expired), IsEmpty());
  EXPECT_THAT(queue.PopBatch(kT0 + absl::Milliseconds(4), wait, &expired),
              IsEmpty());
  EXPECT_THAT(Tags(queue.PopBatch(kT0 + absl::Milliseconds(5), wait, &expired)),
              ElementsAre(1));

  queue.Push(Request("a", 1, 2));
  queue.Push(Request("a", 1, 3));
  EXPECT_THAT(Tags(queue.PopBatch(kT0, wait, &expired)), ElementsAre(2, 3));

  queue.Push(Request("a", 1, 4));
  const ReadyRule flush{absl::Milliseconds(5), 2, true};
  EXPECT_THAT(Tags(queue.PopBatch(kT0, flush, &expired)), ElementsAre(4));
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
  EXPECT_THAT(Tags(queue.PopBatch(soon, wait, &expired)), ElementsAre(2));
  EXPECT_THAT(Tags(expired), ElementsAre(1, 3));
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.probes(), 0);
}

}  // namespace
}  // namespace candor::batching
