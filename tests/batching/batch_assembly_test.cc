#include "server/batching/batch_assembly.h"

#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace candor::batching {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

std::unique_ptr<PendingRequest> Request(std::vector<float> probes, int dim,
                                        std::vector<ProbeQuery> queries) {
  auto request = std::make_unique<PendingRequest>();
  request->dim = dim;
  request->probes = std::move(probes);
  request->queries = std::move(queries);
  return request;
}

TEST(BatchAssembly, MergeConcatenatesProbesAndQueriesInOrder) {
  RequestList batch;
  batch.push_back(Request({1, 2, 3, 4}, 2, {{0.5f, 1}, {0.6f, 2}}));
  batch.push_back(Request({5, 6}, 2, {{0.7f, 3}}));
  MergedInput merged = MergeRequests(batch);
  EXPECT_THAT(merged.probes, ElementsAre(1, 2, 3, 4, 5, 6));
  ASSERT_THAT(merged.queries, SizeIs(3));
  EXPECT_EQ(merged.queries[0].top_k, 1);
  EXPECT_EQ(merged.queries[2].threshold, 0.7f);
  EXPECT_EQ(merged.queries[2].top_k, 3);
}

TEST(BatchAssembly, SplitGivesEachRequestItsOwnLists) {
  CandidateLists merged(4);
  for (int i = 0; i < 4; ++i)
    merged[i].push_back(Candidate{EntryId(i), "", "", 0});
  auto split = SplitResults(merged, {1, 3});
  ASSERT_TRUE(split.ok()) << split.status();
  ASSERT_THAT(*split, SizeIs(2));
  ASSERT_THAT((*split)[0], SizeIs(1));
  EXPECT_EQ((*split)[0][0][0].entry_id, 0u);
  ASSERT_THAT((*split)[1], SizeIs(3));
  EXPECT_EQ((*split)[1][2][0].entry_id, 3u);
}

TEST(BatchAssembly, SplitRejectsACountMismatch) {
  auto split = SplitResults(CandidateLists(3), {1, 3});
  EXPECT_EQ(split.status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace candor::batching
