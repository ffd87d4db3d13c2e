// Start-up never drops acknowledged data silently: a gallery that cannot be
// opened is quarantined whole (moved aside, listed, nothing erased) while
// the others open; a folder without a manifest is quarantined, not erased;
// a torn final log record is dropped and reported; a whole record whose
// checksum fails is damage, and its gallery is quarantined as found instead
// of being cut back to a shorter history.
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/gallery/gallery_store.h"
#include "server/gallery/layout.h"
#include "tests/gallery/test_util.h"

namespace candor::gallery {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr int kDim = 8;

using testing::Names;
using testing::OpenStore;

// Creates `name` with `records` enrollments of two rows each.
void MakeGallery(GalleryStore* store, const std::string& name, int records) {
  GalleryConfig config;
  config.name = name;
  config.index.dimension = kDim;
  auto gallery = store->Create(config);
  ASSERT_TRUE(gallery.ok()) << gallery.status();
  for (int i = 0; i < records; ++i) {
    const std::vector<float> rows = testing::RandomUnitRows(2, kDim, 10 + i);
    ASSERT_TRUE((*gallery)
                    ->Enroll(rows,
                             {absl::StrCat(name, "-s", 2 * i),
                              absl::StrCat(name, "-s", 2 * i + 1)},
                             {}, "")
                    .ok());
  }
}

// Every file under `dir` by path relative to it, with its bytes.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const std::string& path : testing::FilesUnder(dir)) {
    out[std::filesystem::relative(path, dir).string()] = testing::ReadAll(path);
  }
  return out;
}

std::string SegmentPath(const std::string& data_dir, const std::string& name) {
  return data_dir + "/galleries/" + name + "/" + SegmentFileName(1);
}

// The one quarantined item of `store`, checked to hold exactly `files`.
void ExpectQuarantinedAsFound(const GalleryStore& store,
                              const std::string& data_dir,
                              const std::string& name,
                              const std::map<std::string, std::string>& files) {
  const std::vector<QuarantineRecord> q = store.Quarantined();
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].kind, "gallery");
  EXPECT_EQ(q[0].name, name);
  EXPECT_THAT(q[0].path, HasSubstr(data_dir + "/quarantine/" + name + "-"));
  EXPECT_GT(q[0].at_us, 0);
  EXPECT_FALSE(std::filesystem::exists(data_dir + "/galleries/" + name));
  EXPECT_EQ(Snapshot(q[0].path), files) << "quarantine changed the files";
}

TEST(RecoveryReportTest, UnreadableGalleryIsQuarantinedAndOthersServe) {
  testing::ScratchDir scratch;
  {
    auto store = OpenStore(scratch.path());
    MakeGallery(store.get(), "good", 3);
    MakeGallery(store.get(), "bad", 3);
  }
  testing::WriteAll(scratch.path() + "/galleries/bad/MANIFEST", "garbage!");
  const auto files = Snapshot(scratch.path() + "/galleries/bad");

  auto store = OpenStore(scratch.path());
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(Names(*store), UnorderedElementsAre("good"));
  EXPECT_EQ((*store->Get("good"))->size(), 6u);
  ExpectQuarantinedAsFound(*store, scratch.path(), "bad", files);
  EXPECT_THAT(store->Quarantined()[0].reason, HasSubstr("MANIFEST"));
  // The name is free again; the quarantined copy stays where it is.
  MakeGallery(store.get(), "bad", 1);
  EXPECT_EQ(store->Quarantined().size(), 1u);
}

TEST(RecoveryReportTest, FolderWithoutManifestIsQuarantinedNotErased) {
  testing::ScratchDir scratch;
  { auto store = OpenStore(scratch.path()); }
  const std::string half = scratch.path() + "/galleries/half";
  ASSERT_EQ(mkdir(half.c_str(), 0750), 0);
  testing::WriteAll(half + "/" + SegmentFileName(1), "CNDRWAL1 not erased");
  const auto files = Snapshot(half);

  auto store = OpenStore(scratch.path());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(Names(*store).empty());
  ExpectQuarantinedAsFound(*store, scratch.path(), "half", files);
  EXPECT_THAT(store->Quarantined()[0].reason, HasSubstr("no MANIFEST"));
  // Still quarantined (not re-listed) after another start.
  store.reset();
  store = OpenStore(scratch.path());
  EXPECT_TRUE(store->Quarantined().empty());
  EXPECT_EQ(testing::FilesUnder(scratch.path() + "/quarantine").size(), 1u);
}

TEST(RecoveryReportTest, TruncatedActiveSegmentDropsTheTornRecordAndSaysSo) {
  testing::ScratchDir scratch;
  {
    auto store = OpenStore(scratch.path());
    MakeGallery(store.get(), "g", 3);
  }
  const std::string path = SegmentPath(scratch.path(), "g");
  const std::string bytes = testing::ReadAll(path);
  testing::WriteAll(path, bytes.substr(0, bytes.size() - 5));

  auto store = OpenStore(scratch.path());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Quarantined().empty());
  auto g = store->Get("g");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)->size(), 4u);
  const RecoveryDropped dropped = store->Dropped("g");
  EXPECT_EQ(dropped.records, 1u);
  const uint64_t record_bytes = (bytes.size() - kWalHeaderBytes) / 3;
  EXPECT_EQ(dropped.bytes, record_bytes - 5);
  EXPECT_EQ(dropped.offset, bytes.size() - record_bytes);
  EXPECT_EQ(dropped.file, path);
  EXPECT_EQ(testing::ReadAll(path).size(), dropped.offset);
  // Writes continue after the cut, and a clean restart reports nothing.
  ASSERT_TRUE((*g)->Enroll(testing::RandomUnitRows(1, kDim, 99), {"new"}, {},
                           "")
                  .ok());
  store.reset();
  store = OpenStore(scratch.path());
  EXPECT_EQ((*store->Get("g"))->size(), 5u);
  EXPECT_EQ(store->Dropped("g").bytes, 0u);
}

TEST(RecoveryReportTest, FlippedLastCompleteRecordQuarantinesNotTruncates) {
  testing::ScratchDir scratch;
  {
    auto store = OpenStore(scratch.path());
    MakeGallery(store.get(), "good", 2);
    MakeGallery(store.get(), "g", 3);
  }
  const std::string path = SegmentPath(scratch.path(), "g");
  std::string bytes = testing::ReadAll(path);
  bytes[bytes.size() - 3] ^= 0x40;  // inside the last vector
  testing::WriteAll(path, bytes);
  const auto files = Snapshot(scratch.path() + "/galleries/g");

  auto store = OpenStore(scratch.path());
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(Names(*store), UnorderedElementsAre("good"));
  ExpectQuarantinedAsFound(*store, scratch.path(), "g", files);
  EXPECT_THAT(store->Quarantined()[0].reason, HasSubstr("checksum"));
}

TEST(RecoveryReportTest, DamageBeforeTheLastRecordQuarantines) {
  testing::ScratchDir scratch;
  {
    auto store = OpenStore(scratch.path());
    MakeGallery(store.get(), "g", 3);
  }
  const std::string path = SegmentPath(scratch.path(), "g");
  std::string bytes = testing::ReadAll(path);
  bytes[kWalHeaderBytes + 20] ^= 0x01;  // inside the first record
  testing::WriteAll(path, bytes);
  const auto files = Snapshot(scratch.path() + "/galleries/g");

  auto store = OpenStore(scratch.path());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(Names(*store).empty());
  ExpectQuarantinedAsFound(*store, scratch.path(), "g", files);
  EXPECT_THAT(store->Quarantined()[0].reason, HasSubstr("offset 16"));
}

TEST(RecoveryReportTest, ZeroSectorsAtTheEndAreATornWrite) {
  testing::ScratchDir scratch;
  {
    auto store = OpenStore(scratch.path());
    GalleryConfig config;
    config.name = "g";
    config.index.dimension = 512;  // records of 2 KiB and more
    auto g = store->Create(config);
    ASSERT_TRUE(g.ok());
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE((*g)->Enroll(testing::RandomUnitRows(1, 512, i),
                               {absl::StrCat("s", i)}, {}, "")
                      .ok());
    }
  }
  // The last record's final sectors never landed: zeros, full length.
  const std::string path = SegmentPath(scratch.path(), "g");
  std::string bytes = testing::ReadAll(path);
  const size_t sector_end = bytes.size() / 512 * 512;
  for (size_t i = sector_end - 512; i < bytes.size(); ++i) bytes[i] = 0;
  testing::WriteAll(path, bytes);

  auto store = OpenStore(scratch.path());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Quarantined().empty());
  EXPECT_EQ((*store->Get("g"))->size(), 1u);
  EXPECT_EQ(store->Dropped("g").records, 1u);
}

}  // namespace
}  // namespace candor::gallery
