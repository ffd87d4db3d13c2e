#include "server/router/placement.h"

#include "gtest/gtest.h"
#include "server/router/shard_set.h"

namespace candor::router {
namespace {

// CRC-32 values from an independent implementation (Python's zlib.crc32):
// subj-0 = 3755649614, subj-1 = 2833095384, subj-42 = 4009938228. The
// placement must never change, or existing galleries would be split wrongly.
TEST(PlacementTest, SubjectHashIsCrc32ModShardCount) {
  EXPECT_EQ(ShardOfSubject("subj-0", 3), 3755649614u % 3);
  EXPECT_EQ(ShardOfSubject("subj-1", 3), 2833095384u % 3);
  EXPECT_EQ(ShardOfSubject("subj-42", 4), 4009938228u % 4);
  EXPECT_EQ(ShardOfSubject("", 5), 0);
  EXPECT_EQ(ShardOfSubject("anything", 1), 0);
}

TEST(PlacementTest, GlobalIdsRoundTrip) {
  for (int shard : {0, 1, 7, kMaxShards - 1}) {
    for (uint64_t local :
         {uint64_t{0}, uint64_t{1}, uint64_t{123456789}, kLocalIdMask}) {
      auto global = GlobalEntryId(shard, local);
      ASSERT_TRUE(global.ok());
      auto split = SplitEntryId(*global, kMaxShards);
      ASSERT_TRUE(split.ok());
      EXPECT_EQ(split->shard, shard);
      EXPECT_EQ(split->local, local);
    }
  }
  EXPECT_EQ(*GlobalEntryId(2, 5), (uint64_t{2} << 48) | 5);
}

TEST(PlacementTest, RejectsIdsThatCannotBeTold) {
  EXPECT_EQ(GlobalEntryId(0, kLocalIdMask + 1).status().code(),
            absl::StatusCode::kInternal);
  auto split = SplitEntryId(uint64_t{3} << 48, 3);
  EXPECT_EQ(split.status().code(), absl::StatusCode::kNotFound);
}

TEST(ShardListTest, ParsesInOrderAndRejectsBadItems) {
  auto list = ParseShardList("b:2,a:1,c.d:3");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<std::string>{"b:2", "a:1", "c.d:3"}));
  for (const char* bad : {"", "a", "a:", ":1", "a:1,", "a:0", "a:x"}) {
    EXPECT_EQ(ParseShardList(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace candor::router
