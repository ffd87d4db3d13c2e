// GalleryStore: names, create/get/list/delete, reopen, and cleanup of a
// half-created gallery directory.
#include "server/gallery/gallery_store.h"

#include <sys/stat.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/storage/env.h"
#include "tests/gallery/test_util.h"

namespace candor::gallery {
namespace {

using ::testing::UnorderedElementsAre;

constexpr int kDim = 8;

GalleryConfig Config(const std::string& name, int dim = kDim) {
  GalleryConfig c;
  c.name = name;
  c.index.dimension = dim;
  return c;
}

using testing::Names;
using testing::OpenStore;

TEST(ValidateGalleryNameTest, AcceptsAndRejects) {
  for (const std::string& ok : std::vector<std::string>{"a", "Faces_2024.v1-eu", std::string(64, 'x'), "a..b"}) {
    EXPECT_TRUE(ValidateGalleryName(ok).ok()) << ok;
  }
  for (const std::string& bad : std::vector<std::string>{"", std::string(65, 'x'), ".hidden", "..", "a/b", "a b", "caf\xc3\xa9",
        std::string("a\0b", 3)}) {
    EXPECT_EQ(ValidateGalleryName(bad).code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(GalleryStoreTest, CreateGetListDelete) {
  testing::ScratchDir scratch;
  auto store = OpenStore(scratch.path());
  ASSERT_TRUE(store->Create(Config("one")).ok());
  ASSERT_TRUE(store->Create(Config("two", 4)).ok());
  EXPECT_EQ(store->Create(Config("one")).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store->Create(Config(".x")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Create(Config("d0", 0)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Create(Config("d4097", 4097)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Names(*store), UnorderedElementsAre("one", "two"));

  auto two = store->Get("two");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ((*two)->dimension(), 4);
  EXPECT_EQ(store->Get("three").status().code(), absl::StatusCode::kNotFound);

  const std::vector<float> rows = testing::RandomUnitRows(2, 4, 1);
  ASSERT_TRUE((*two)->Enroll(rows, {"a", "b"}, {}, "").ok());
  // Compacted, so its rows are read from the mapped snapshot.
  ASSERT_TRUE((*two)->Compact().ok());
  ASSERT_TRUE(store->Delete("two").ok());
  EXPECT_EQ(store->Delete("two").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->Get("two").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(storage::Env::Default()->FileExists(scratch.path() + "/galleries/two"));
  // Deleted: the vectors are gone from disk, and the old handle refuses
  // writes while still answering searches it already had in flight.
  EXPECT_EQ(testing::CountInFiles(
                scratch.path(),
                std::string(reinterpret_cast<const char*>(rows.data()), 16)),
            0);
  EXPECT_EQ((*two)->Enroll(rows, {"a", "b"}, {}, "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A search on the old handle finds it empty (not the zeros its erased
  // snapshot now holds).
  auto found = (*two)->Search(absl::MakeConstSpan(rows.data(), 4),
                              std::vector<ProbeQuery>{{-1.0f, 2, 0}});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(found->candidates[0].empty());
  std::vector<float> v(4);
  EXPECT_EQ((*two)->GetVector(1, v.data()).code(), absl::StatusCode::kNotFound);
  // The name is free again.
  EXPECT_TRUE(store->Create(Config("two")).ok());
}

TEST(GalleryStoreTest, ReopenLoadsEveryGallery) {
  testing::ScratchDir scratch;
  {
    auto store = OpenStore(scratch.path());
    auto g = store->Create(Config("kept"));
    ASSERT_TRUE(g.ok());
    ASSERT_TRUE((*g)->Enroll(testing::RandomUnitRows(3, kDim, 2),
                             {"a", "b", "c"}, {"x", "y", "x"}, "")
                    .ok());
    ASSERT_TRUE((*g)->SetPolicyBlob("p").ok());
    ASSERT_TRUE(store->Create(Config("empty")).ok());
  }
  auto store = OpenStore(scratch.path());
  EXPECT_THAT(Names(*store), UnorderedElementsAre("kept", "empty"));
  auto g = store->Get("kept");
  ASSERT_TRUE(g.ok());
  GalleryInfo info = (*g)->Info();
  EXPECT_EQ(info.size, 3u);
  EXPECT_EQ(info.groups.at("x"), 2u);
  EXPECT_EQ(info.config.policy_blob, "p");
}

TEST(GalleryStoreTest, HalfCreatedGalleryIsQuarantinedOnOpen) {
  testing::ScratchDir scratch;
  { auto store = OpenStore(scratch.path()); }
  // A crash during Create: directory and log segment, no manifest. Kept
  // aside, never erased (a lost manifest looks the same).
  const std::string half = scratch.path() + "/galleries/half";
  ASSERT_EQ(mkdir(half.c_str(), 0750), 0);
  testing::WriteAll(half + "/wal-00000000000000000001.log", "CNDRWAL1....");
  auto store = OpenStore(scratch.path());
  EXPECT_TRUE(Names(*store).empty());
  EXPECT_FALSE(storage::Env::Default()->IsDirectory(half));
  ASSERT_EQ(store->Quarantined().size(), 1u);
  EXPECT_TRUE(
      storage::Env::Default()->IsDirectory(store->Quarantined()[0].path));
  EXPECT_TRUE(store->Create(Config("half")).ok());
}

TEST(GalleryStoreTest, DamagedGalleryIsQuarantinedNamingIt) {
  testing::ScratchDir scratch;
  {
    auto store = OpenStore(scratch.path());
    ASSERT_TRUE(store->Create(Config("bad")).ok());
  }
  testing::WriteAll(scratch.path() + "/galleries/bad/MANIFEST", "garbage!");
  auto store = OpenStore(scratch.path());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(Names(*store).empty());
  ASSERT_EQ(store->Quarantined().size(), 1u);
  EXPECT_EQ(store->Quarantined()[0].name, "bad");
  EXPECT_THAT(store->Quarantined()[0].reason, ::testing::HasSubstr("DATA_LOSS"));
}

TEST(GalleryStoreTest, ShutdownIsPromptAndIdempotent) {
  testing::ScratchDir scratch;
  StoreOptions options;
  options.data_dir = scratch.path();
  options.compaction_poll = absl::Hours(1);
  auto store = GalleryStore::Open(options);
  ASSERT_TRUE(store.ok());
  // Returns (the test would hang otherwise) despite the hour-long poll.
  (*store)->Shutdown();
  (*store)->Shutdown();
}

}  // namespace
}  // namespace candor::gallery
