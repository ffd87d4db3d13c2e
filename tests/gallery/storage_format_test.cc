// The in-memory table, the request-id bound, and the snapshot and manifest
// files: round trips and damage detection.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/gallery/entry_table.h"
#include "server/storage/env.h"
#include "server/gallery/manifest.h"
#include "server/gallery/request_ids.h"
#include "server/gallery/snapshot.h"
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
  EXPECT_EQ(t.vectors().size(), 2u * kDim);
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
  EXPECT_EQ(std::vector<float>(s->table.vectors().begin(),
                               s->table.vectors().end()),
            rows);
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
