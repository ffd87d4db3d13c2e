// The in-memory table, the request-id bound, and the snapshot and manifest
// files: round trips and damage detection.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/gallery/entry_table.h"
#include "server/storage/env.h"
#include "server/gallery/manifest.h"
#include "server/gallery/request_ids.h"
#include "server/gallery/snapshot.h"
#include "server/storage/byte_io.h"
#include "tests/gallery/test_util.h"

namespace candor::gallery {
namespace {

using ::testing::ElementsAre;

constexpr int kDim = 6;

EntryTable MakeTable(const std::vector<float>& rows) {
  EntryTable t(kDim);
  t.Add(10, "alice", "g1", rows.data());
  t.Add(11, "bob", "", rows.data() + kDim);
  t.Add(12, "alice", "g2", rows.data() + 2 * kDim);
  t.Add(13, "carol", "g1", rows.data() + 3 * kDim);
  return t;
}

TEST(EntryTableTest, RemoveKeepsLookupsConsistent) {
  const std::vector<float> rows = testing::RandomUnitRows(4, kDim, 1);
  EntryTable t = MakeTable(rows);
  EXPECT_EQ(t.subject_count(), 3u);
  EXPECT_THAT(t.SubjectEntries("alice"), ElementsAre(10u, 12u));
  ASSERT_TRUE(t.Remove(10));
  EXPECT_FALSE(t.Remove(10));
  EXPECT_EQ(t.size(), 3u);
  EXPECT_THAT(t.SubjectEntries("alice"), ElementsAre(12u));
  EXPECT_EQ(t.group_counts(),
            (std::map<std::string, uint64_t>{{"", 1}, {"g1", 1}, {"g2", 1}}));
  // The last row moved into the freed slot; every id still finds its own
  // vector.
  for (EntryId id : {11, 12, 13}) {
    const int64_t row = t.RowOf(id);
    ASSERT_GE(row, 0);
    EXPECT_EQ(t.id_at(row), id);
    const float* want = rows.data() + (id - 10) * kDim;
    EXPECT_EQ(std::vector<float>(t.vector_at(row), t.vector_at(row) + kDim),
              std::vector<float>(want, want + kDim));
  }
  ASSERT_TRUE(t.Remove(13));
  EXPECT_EQ(t.subject_count(), 2u);
  EXPECT_EQ(t.owned_rows(), 2u);
  t.Clear();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.subject_count(), 0u);
  EXPECT_TRUE(t.group_counts().empty());
  EXPECT_EQ(t.owned_rows(), 0u);
}

std::vector<float> AllRows(const EntryTable& t) {
  std::vector<float> out(t.size() * kDim);
  t.CopyRows(0, t.size(), out.data());
  return out;
}

TEST(EntryTableTest, AdoptRowsMovesSharedEntriesOntoTheOtherTablesRows) {
  const std::vector<float> rows = testing::RandomUnitRows(4, kDim, 3);
  EntryTable t = MakeTable(rows);
  // Rows kept elsewhere (as a mapped snapshot's are), for ids 11 and 13
  // and one the table does not hold.
  auto elsewhere = std::make_shared<std::vector<float>>(rows);
  EntryTable other(kDim);
  for (EntryId id : {11, 13, 99}) {
    const size_t r = id == 99 ? 0 : id - 10;
    other.AddShared(id, "x", "y",
                    std::shared_ptr<const float>(
                        elsewhere, elsewhere->data() + r * kDim));
  }
  EXPECT_EQ(other.owned_rows(), 0u);
  EXPECT_EQ(other.MappedBytes(), 3u * kDim * sizeof(float));
  const uint64_t before = t.HostBytes();

  EXPECT_EQ(t.AdoptRows(other), 2u);
  EXPECT_EQ(t.owned_rows(), 2u);
  EXPECT_EQ(t.MappedBytes(), 2u * kDim * sizeof(float));
  EXPECT_LE(t.HostBytes() + 2u * kDim * sizeof(float), before);
  EXPECT_EQ(t.vector_at(t.RowOf(11)), elsewhere->data() + kDim);
  EXPECT_EQ(t.vector_at(t.RowOf(13)), elsewhere->data() + 3 * kDim);
  // Same vectors, same order, whoever holds them.
  EXPECT_EQ(AllRows(t), rows);
  // The rows stay valid after `other` is gone.
  other.Clear();
  EXPECT_EQ(AllRows(t), rows);
  ASSERT_TRUE(t.Remove(11));
  EXPECT_EQ(t.owned_rows(), 2u);
  EXPECT_EQ(t.MappedBytes(), 1u * kDim * sizeof(float));
}

TEST(EntryTableTest, SharedRowsOutliveRemoval) {
  const std::vector<float> rows = testing::RandomUnitRows(4, kDim, 4);
  EntryTable t = MakeTable(rows);
  // A snapshot writer's hold keeps a removed row readable until released.
  const std::vector<std::shared_ptr<const float>> held = t.ShareRows();
  ASSERT_TRUE(t.Remove(10));
  EXPECT_EQ(std::vector<float>(held[0].get(), held[0].get() + kDim),
            std::vector<float>(rows.begin(), rows.begin() + kDim));
}

TEST(RequestIdCacheTest, KeepsTheMostRecentKeys) {
  RequestIdCache cache(3);
  for (int i = 0; i < 5; ++i) {
    cache.Insert("r" + std::to_string(i), {EntryId(i * 10 + 1), 1, 0});
  }
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.Find("r0"), nullptr);
  EXPECT_EQ(cache.Find("r1"), nullptr);
  ASSERT_NE(cache.Find("r4"), nullptr);
  EXPECT_EQ(cache.Find("r4")->first_id, 41u);
  std::vector<std::string> order;
  cache.ForEach([&](const std::string& k, const RequestIdCache::Applied&) {
    order.push_back(k);
  });
  EXPECT_THAT(order, ElementsAre("r2", "r3", "r4"));
  EXPECT_EQ(kMaxRequestIds, 100000u);
}

TEST(SnapshotTest, RoundTripsAndDetectsDamage) {
  testing::ScratchDir dir;
  const std::vector<float> rows = testing::RandomUnitRows(4, kDim, 2);
  EntryTable t = MakeTable(rows);
  RequestIdCache ids;
  ids.Insert("a", {10, 2, 0});
  ids.Insert("b", {12, 2, 0});
  const std::string bytes = EncodeSnapshot(t, ids, 42, 14);
  EXPECT_EQ(bytes.substr(0, 8), "CNDRSNP1");
  const std::string path = dir.path() + "/snap";
  testing::WriteAll(path, bytes);

  auto s = ReadSnapshot(storage::Env::Default(), path, kDim);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->version, 42u);
  EXPECT_EQ(s->next_id, 14u);
  ASSERT_EQ(s->table.size(), 4u);
  for (size_t r = 0; r < 4; ++r) {
    EXPECT_EQ(s->table.id_at(r), t.id_at(r));
    EXPECT_EQ(s->table.subject_at(r), t.subject_at(r));
    EXPECT_EQ(s->table.group_at(r), t.group_at(r));
  }
  EXPECT_EQ(AllRows(s->table), rows);
  // The rows are read in place from the mapped file, 64-byte aligned.
  EXPECT_EQ(s->table.owned_rows(), 0u);
  EXPECT_EQ(s->table.MappedBytes(), rows.size() * sizeof(float));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(s->table.vector_at(0)) %
                kSnapshotVectorAlignment,
            0u);
  ASSERT_NE(s->request_ids.Find("b"), nullptr);
  EXPECT_EQ(s->request_ids.Find("b")->first_id, 12u);

  EXPECT_EQ(ReadSnapshot(storage::Env::Default(), path, kDim + 1).status().code(),
            absl::StatusCode::kDataLoss);
  for (size_t pos : {size_t{9}, bytes.size() / 2, bytes.size() - 1}) {
    std::string damaged = bytes;
    damaged[pos] ^= 0x20;
    testing::WriteAll(path, damaged);
    EXPECT_EQ(ReadSnapshot(storage::Env::Default(), path, kDim).status().code(),
              absl::StatusCode::kDataLoss)
        << pos;
  }
  testing::WriteAll(path, bytes.substr(0, bytes.size() - 7));
  EXPECT_EQ(ReadSnapshot(storage::Env::Default(), path, kDim).status().code(),
            absl::StatusCode::kDataLoss);
}

// Format 1 had no padding before the vectors; such files are still read,
// their rows copied into memory.
TEST(SnapshotTest, ReadsFormatOneIntoMemory) {
  testing::ScratchDir dir;
  const std::vector<float> rows = testing::RandomUnitRows(4, kDim, 5);
  EntryTable t = MakeTable(rows);
  const SnapshotSource source = CaptureSnapshot(t, RequestIdCache(), 7, 14);
  std::string v1 = source.head;
  // The head without its padding (the last entry's group, "g1", ends it),
  // then the rows and the checksum.
  while (v1.back() == '\0') v1.pop_back();
  ASSERT_NE(v1.size() % kSnapshotVectorAlignment, 0u);
  v1[8] = 1;  // format version
  v1.append(reinterpret_cast<const char*>(rows.data()),
            rows.size() * sizeof(float));
  std::string crc(4, '\0');
  storage::EncodeU32(storage::Crc32(v1), crc.data());
  const std::string path = dir.path() + "/snap";
  testing::WriteAll(path, v1 + crc);

  auto s = ReadSnapshot(storage::Env::Default(), path, kDim);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->version, 7u);
  EXPECT_EQ(AllRows(s->table), rows);
  EXPECT_EQ(s->table.owned_rows(), 4u);
  EXPECT_EQ(s->table.MappedBytes(), 0u);
}

TEST(SnapshotTest, WriteSnapshotMatchesTheEncodedBytes) {
  testing::ScratchDir dir;
  // More rows than one write chunk, so the chunks must join up.
  const std::vector<float> rows = testing::RandomUnitRows(5000, kDim, 6);
  EntryTable t(kDim);
  for (size_t i = 0; i < 5000; ++i) {
    t.Add(i + 1, "s" + std::to_string(i % 7), "", rows.data() + i * kDim);
  }
  const std::string path = dir.path() + "/snap";
  ASSERT_TRUE(WriteSnapshot(storage::Env::Default(), path,
                            CaptureSnapshot(t, RequestIdCache(), 3, 5001))
                  .ok());
  EXPECT_EQ(testing::ReadAll(path), EncodeSnapshot(t, RequestIdCache(), 3, 5001));
  auto s = ReadSnapshot(storage::Env::Default(), path, kDim);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(AllRows(s->table), rows);
}

TEST(ManifestTest, RoundTripsAndDetectsDamage) {
  testing::ScratchDir dir;
  Manifest m;
  m.config.name = "faces";
  m.config.index.dimension = 512;
  m.config.index.type = index::IndexType::kIvfFlat;
  m.config.index.nlist = 1024;
  m.config.index.default_nprobe = 16;
  m.config.index.storage = index::Storage::kFp16;
  m.config.policy_blob = std::string("max_fpir: 1e-4\0bytes", 20);
  m.config.created_at_us = 1234567890123;
  m.index_trained = true;
  ASSERT_TRUE(WriteManifest(storage::Env::Default(), dir.path(), m).ok());
  EXPECT_FALSE(storage::Env::Default()->FileExists(dir.path() + "/MANIFEST.tmp"));
  auto read = ReadManifest(storage::Env::Default(), dir.path());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->config.name, "faces");
  EXPECT_EQ(read->config.index.dimension, 512);
  EXPECT_EQ(read->config.index.type, index::IndexType::kIvfFlat);
  EXPECT_EQ(read->config.index.nlist, 1024);
  EXPECT_EQ(read->config.index.default_nprobe, 16);
  EXPECT_EQ(read->config.index.storage, index::Storage::kFp16);
  EXPECT_EQ(read->config.policy_blob, m.config.policy_blob);
  EXPECT_EQ(read->config.created_at_us, 1234567890123);
  EXPECT_TRUE(read->index_trained);

  std::string bytes = testing::ReadAll(dir.path() + "/MANIFEST");
  bytes[12] ^= 1;
  testing::WriteAll(dir.path() + "/MANIFEST", bytes);
  EXPECT_EQ(ReadManifest(storage::Env::Default(), dir.path()).status().code(),
            absl::StatusCode::kDataLoss);
  testing::ScratchDir empty;
  EXPECT_EQ(ReadManifest(storage::Env::Default(), empty.path()).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace candor::gallery
