#include "server/router/merge.h"

#include "gtest/gtest.h"
#include "server/router/gallery_aggregate.h"
#include "server/router/placement.h"

namespace candor::router {
namespace {

v1::SearchRequest Request(int rows, uint32_t top_k, bool allow_partial) {
  v1::SearchRequest request;
  request.mutable_probes()->set_rows(static_cast<uint32_t>(rows));
  request.set_top_k(top_k);
  request.set_allow_partial(allow_partial);
  return request;
}

// One probe's candidates on one shard: (local id, score) pairs.
SearchCall Reply(int shard, std::vector<std::pair<uint64_t, float>> hits,
                 uint64_t version) {
  SearchCall call;
  call.shard = shard;
  v1::ProbeResult* result = call.response.add_results();
  for (const auto& [id, score] : hits) {
    v1::Candidate* c = result->add_candidates();
    c->set_entry_id(id);
    c->set_subject_id("s" + std::to_string(shard) + "-" + std::to_string(id));
    c->set_score(score);
  }
  call.response.set_gallery_version(version);
  return call;
}

TEST(MergeTest, KeepsTheBestTopKByScoreThenGlobalId) {
  ShardSet shards({"127.0.0.1:1", "127.0.0.1:2"}, 1 << 20);
  std::vector<SearchCall> replies = {
      Reply(0, {{5, 0.9f}, {6, 0.5f}, {7, 0.4f}}, 3),
      Reply(1, {{1, 0.8f}, {2, 0.5f}, {3, 0.1f}}, 4)};
  auto merged = MergeSearch(shards, Request(1, 4, false), replies);
  ASSERT_TRUE(merged.ok()) << merged.status();
  const auto& c = merged->results(0).candidates();
  ASSERT_EQ(c.size(), 4);
  EXPECT_EQ(c[0].entry_id(), 5u);
  EXPECT_EQ(c[1].entry_id(), *GlobalEntryId(1, 1));
  // 0.5 on both shards: shard 0's id is the smaller global id.
  EXPECT_EQ(c[2].entry_id(), 6u);
  EXPECT_EQ(c[3].entry_id(), *GlobalEntryId(1, 2));
  EXPECT_EQ(merged->gallery_version(), 7u);
  EXPECT_FALSE(merged->partial());
}

TEST(MergeTest, ADownShardIsUnavailableOrPartial) {
  ShardSet shards({"127.0.0.1:1", "127.0.0.1:2"}, 1 << 20);
  std::vector<SearchCall> replies = {Reply(0, {{5, 0.9f}}, 1), Reply(1, {}, 0)};
  replies[1].status = absl::UnavailableError("connection refused");
  auto strict = MergeSearch(shards, Request(1, 3, false), replies);
  EXPECT_EQ(strict.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(strict.status().message().find("127.0.0.1:2"), std::string::npos);

  auto partial = MergeSearch(shards, Request(1, 3, true), replies);
  ASSERT_TRUE(partial.ok()) << partial.status();
  EXPECT_TRUE(partial->partial());
  ASSERT_EQ(partial->missing_shards_size(), 1);
  EXPECT_EQ(partial->missing_shards(0), "127.0.0.1:2");
  EXPECT_EQ(partial->results(0).candidates_size(), 1);

  // A caller's mistake is not hidden by allow_partial.
  replies[1].status = absl::InvalidArgumentError("probes: 3 columns");
  EXPECT_EQ(MergeSearch(shards, Request(1, 3, true), replies).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AggregateTest, SumsSizesGroupsMemoryAndVersions) {
  v1::Gallery a, b;
  a.set_name("g");
  a.set_dimension(8);
  a.set_size(3);
  a.set_subjects(2);
  a.set_version(5);
  a.set_created_at_us(20);
  a.set_trained(true);
  a.mutable_memory()->set_host_bytes(300);
  a.mutable_memory()->set_mapped_bytes(2048);
  a.set_precision(v1::PRECISION_BF16);
  auto* ga = a.add_groups();
  ga->set_group("A");
  ga->set_entries(3);
  b = a;
  b.set_size(1);
  b.set_subjects(1);
  b.set_version(2);
  b.set_created_at_us(10);
  b.mutable_memory()->set_host_bytes(100);
  b.mutable_memory()->set_mapped_bytes(1024);
  b.mutable_groups(0)->set_group("B");
  b.mutable_groups(0)->set_entries(1);
  v1::Gallery out = AggregateGallery({&a, &b});
  EXPECT_EQ(out.size(), 4u);
  EXPECT_EQ(out.subjects(), 3u);
  EXPECT_EQ(out.version(), 7u);
  EXPECT_EQ(out.created_at_us(), 10);
  EXPECT_EQ(out.memory().host_bytes(), 400u);
  EXPECT_EQ(out.memory().mapped_bytes(), 3072u);
  EXPECT_EQ(out.precision(), v1::PRECISION_BF16);
  EXPECT_DOUBLE_EQ(out.memory().host_bytes_per_entry(), 100.0);
  ASSERT_EQ(out.groups_size(), 2);
  EXPECT_EQ(out.groups(0).group(), "A");
  EXPECT_EQ(out.groups(1).entries(), 1u);
  EXPECT_TRUE(out.trained());
}

}  // namespace
}  // namespace candor::router
