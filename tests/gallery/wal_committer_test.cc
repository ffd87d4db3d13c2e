// Group commit: one fdatasync covers every record appended before it, and
// records survive rotation into a new segment.
#include "server/gallery/wal_committer.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/gallery/layout.h"
#include "server/gallery/wal_format.h"
#include "tests/gallery/test_util.h"

namespace candor::gallery {
namespace {

constexpr int kDim = 4;

std::string Record(EntryId id) {
  return EncodeRemoveRecord(std::vector<EntryId>{id});
}

std::vector<EntryId> RemovedIds(const std::string& path, bool last) {
  std::vector<EntryId> ids;
  auto r = ReadWalSegment(storage::Env::Default(), path, kDim, last,
                          [&ids](const WalRecord& rec, uint64_t) {
                            ids.push_back(rec.removed_ids[0]);
                            return absl::OkStatus();
                          });
  EXPECT_TRUE(r.ok()) << r.status();
  return ids;
}

TEST(WalCommitterTest, OneSyncCoversEveryEarlierAppend) {
  testing::ScratchDir dir;
  auto segment = WalWriter::Create(storage::Env::Default(), dir.path(), 1, kDim);
  ASSERT_TRUE(segment.ok()) << segment.status();
  WalCommitter wal(std::move(*segment), /*sync=*/true, 0);
  constexpr int kWriters = 8;
  std::vector<uint64_t> tickets;
  for (int i = 0; i < kWriters; ++i) {
    auto t = wal.Append(Record(i + 1));
    ASSERT_TRUE(t.ok());
    tickets.push_back(*t);
  }
  EXPECT_EQ(tickets.back(), static_cast<uint64_t>(kWriters));
  std::vector<std::thread> waiters;
  std::vector<absl::Status> results(kWriters);
  for (int i = 0; i < kWriters; ++i) {
    waiters.emplace_back(
        [&, i] { results[i] = wal.WaitDurable(tickets[i]); });
  }
  for (auto& w : waiters) w.join();
  for (const auto& s : results) EXPECT_TRUE(s.ok()) << s;
  // Whoever synced first covered all eight appends.
  EXPECT_EQ(wal.syncs(), 1u);
  // Durable again: no new sync.
  EXPECT_TRUE(wal.WaitDurable(tickets[0]).ok());
  EXPECT_EQ(wal.syncs(), 1u);
}

TEST(WalCommitterTest, RotationKeepsOrderAcrossSegments) {
  testing::ScratchDir dir;
  auto first = WalWriter::Create(storage::Env::Default(), dir.path(), 1, kDim);
  ASSERT_TRUE(first.ok());
  WalCommitter wal(std::move(*first), /*sync=*/true, 0);
  ASSERT_TRUE(wal.Append(Record(1)).ok());
  ASSERT_TRUE(wal.Append(Record(2)).ok());
  auto second = WalWriter::Create(storage::Env::Default(), dir.path(), 2, kDim);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(wal.Rotate(std::move(*second)).ok());
  EXPECT_EQ(wal.segment_seq(), 2u);
  auto t = wal.Append(Record(3));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, 3u);
  ASSERT_TRUE(wal.WaitDurable(*t).ok());
  EXPECT_EQ(RemovedIds(dir.path() + "/" + SegmentFileName(1), false),
            (std::vector<EntryId>{1, 2}));
  EXPECT_EQ(RemovedIds(dir.path() + "/" + SegmentFileName(2), true),
            (std::vector<EntryId>{3}));
  const uint64_t both = wal.total_bytes();
  wal.ForgetSealedBytes();
  EXPECT_LT(wal.total_bytes(), both);
}

TEST(WalCommitterTest, PoisonedLogRefusesAppends) {
  testing::ScratchDir dir;
  auto segment = WalWriter::Create(storage::Env::Default(), dir.path(), 1, kDim);
  ASSERT_TRUE(segment.ok());
  WalCommitter wal(std::move(*segment), /*sync=*/true, 0);
  wal.Poison(absl::InternalError("disk on fire"));
  EXPECT_EQ(wal.Append(Record(1)).status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(wal.health().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace candor::gallery
