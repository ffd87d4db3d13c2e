// A gallery on a failing disk: a write error no longer stops writes until
// restart, erasure resumes once the disk does, and what failed is counted
// and cleaned up. (Each of these failed before the storage layer.)
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/gallery/gallery.h"
#include "server/gallery/layout.h"
#include "server/storage/files.h"
#include "tests/gallery/test_util.h"
#include "tests/storage/fault_env.h"

namespace candor::gallery {
namespace {

using storage::testing::FaultEnv;
using storage::testing::Op;
using testing::CountInFiles;
using testing::FilesUnder;
using ::testing::HasSubstr;
using testing::RandomUnitRows;
using testing::ScratchDir;
using ::testing::UnorderedElementsAreArray;

constexpr int kDim = 8;

GalleryConfig Config() {
  GalleryConfig c;
  c.name = "g";
  c.index.dimension = kDim;
  c.created_at_us = 1700000000000000;
  return c;
}

std::vector<EntryId> Ids(const Gallery& g) {
  std::vector<EntryId> ids;
  for (const EntryMeta& e : g.Entries()) ids.push_back(e.id);
  return ids;
}

class GalleryFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.env = &env_;
    dir_ = storage::JoinPath(scratch_.path(), "g");
    auto g = Gallery::Create(dir_, Config(), options_);
    ASSERT_TRUE(g.ok()) << g.status();
    gallery_ = std::move(*g);
  }

  absl::StatusOr<EnrollResult> Enroll(int rows, uint32_t seed,
                                      const std::string& request_id = "") {
    const std::vector<float> v = RandomUnitRows(rows, kDim, seed);
    std::vector<std::string> subjects;
    for (int i = 0; i < rows; ++i)
      subjects.push_back("s" + std::to_string(seed));
    return gallery_->Enroll(v, subjects, {}, request_id);
  }

  // Closes the gallery and opens its directory from the bytes on disk.
  std::unique_ptr<Gallery> Reopen() {
    gallery_.reset();
    auto g = Gallery::Open(dir_, GalleryOptions());
    EXPECT_TRUE(g.ok()) << g.status();
    return g.ok() ? std::move(*g) : nullptr;
  }

  ScratchDir scratch_;
  FaultEnv env_;
  GalleryOptions options_;
  std::string dir_;
  std::unique_ptr<Gallery> gallery_;
};

TEST_F(GalleryFaultTest,
       LogWriteErrorThenDiskRecoversRemoveWorksWithoutRestart) {
  auto a = Enroll(2, 1);
  ASSERT_TRUE(a.ok());
  env_.FailAt(1, Op::kAppend);
  auto b = Enroll(1, 2, "retry-me");
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.status().message(), HasSubstr("injected"));
  // Reads go on meanwhile.
  EXPECT_EQ(gallery_->size(), 2u);

  // The disk is back: removal (and erasure) work without a restart.
  auto removed = gallery_->RemoveEntries({a->entry_ids[0]});
  ASSERT_TRUE(removed.ok()) << removed.status();
  // A retry of the failed enroll enrolls (its record is gone).
  auto retried = Enroll(1, 2, "retry-me");
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_FALSE(retried->replayed);
  auto compacted = gallery_->Compact();
  ASSERT_TRUE(compacted.ok()) << compacted.status();

  std::vector<EntryId> expected = {a->entry_ids[1], retried->entry_ids[0]};
  EXPECT_THAT(Ids(*gallery_), UnorderedElementsAreArray(expected));
  auto reopened = Reopen();
  ASSERT_NE(reopened, nullptr);
  EXPECT_THAT(Ids(*reopened), UnorderedElementsAreArray(expected));
}

TEST_F(GalleryFaultTest, LogSyncErrorCutsTheUnacknowledgedRecord) {
  auto a = Enroll(1, 1);
  ASSERT_TRUE(a.ok());
  env_.FailAt(1, Op::kSync);
  ASSERT_FALSE(Enroll(1, 2).ok());
  // Its bytes reached the file; the next write cuts them off first.
  auto c = Enroll(1, 3);
  ASSERT_TRUE(c.ok()) << c.status();
  auto reopened = Reopen();
  ASSERT_NE(reopened, nullptr);
  EXPECT_THAT(Ids(*reopened),
              UnorderedElementsAreArray({a->entry_ids[0], c->entry_ids[0]}));
}

TEST_F(GalleryFaultTest, WhileTheDiskFailsWritesFailCleanlyAndReadsGoOn) {
  auto a = Enroll(3, 1);
  ASSERT_TRUE(a.ok());
  env_.FailAt(1, std::nullopt, /*persistent=*/true);
  EXPECT_FALSE(gallery_->RemoveEntries({a->entry_ids[0]}).ok());
  EXPECT_FALSE(gallery_->RemoveSubject("s1").ok());
  EXPECT_FALSE(Enroll(1, 2).ok());
  EXPECT_FALSE(gallery_->Compact().ok());
  EXPECT_EQ(gallery_->size(), 3u);
  std::vector<float> v(kDim);
  EXPECT_TRUE(gallery_->GetVector(a->entry_ids[0], v.data()).ok());
  env_.ClearFaults();
  ASSERT_TRUE(gallery_->RemoveEntries({a->entry_ids[0]}).ok());
  EXPECT_EQ(gallery_->size(), 2u);
}

TEST_F(GalleryFaultTest, FailedSnapshotWriteLeavesNoTmpAfterTheNextCompaction) {
  auto a = Enroll(2, 1);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(gallery_->RemoveEntries({a->entry_ids[0]}).ok());
  // The first rename of a compaction switches log segments; the second
  // puts the snapshot in place.
  env_.FailAt(2, Op::kRename);
  EXPECT_FALSE(gallery_->Compact().ok());
  // A .tmp an earlier failure (or crash) left behind, holding vectors.
  const std::string stale =
      storage::JoinPath(dir_, SnapshotFileName(99) + storage::kTmpSuffix);
  testing::WriteAll(stale, "removed vector bytes");
  ASSERT_TRUE(gallery_->Compact().ok());
  for (const std::string& f : FilesUnder(dir_)) {
    EXPECT_THAT(f, ::testing::Not(::testing::EndsWith(".tmp")));
  }
  EXPECT_EQ(CountInFiles(dir_, "removed vector bytes"), 0);
}

TEST_F(GalleryFaultTest, FailedAutomaticCompactionIsCountedAndRetried) {
  options_.compaction_delay = absl::ZeroDuration();
  gallery_.reset();
  auto g = Gallery::Open(dir_, options_);
  ASSERT_TRUE(g.ok());
  gallery_ = std::move(*g);
  auto a = Enroll(3, 1);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(gallery_->RemoveSubject("s1").ok());
  EXPECT_EQ(gallery_->Info().erasure_backlog_entries, 3u);

  env_.FailAt(1, Op::kSyncDir, /*persistent=*/true);
  EXPECT_FALSE(gallery_->MaybeCompact(absl::Now()).ok());
  EXPECT_FALSE(gallery_->MaybeCompact(absl::Now()).ok());
  GalleryInfo info = gallery_->Info();
  EXPECT_EQ(info.compaction_failures, 2u);
  EXPECT_EQ(info.erasure_backlog_entries, 3u);

  env_.ClearFaults();
  ASSERT_TRUE(gallery_->MaybeCompact(absl::Now()).ok());
  info = gallery_->Info();
  EXPECT_EQ(info.compaction_failures, 2u);
  EXPECT_EQ(info.erasure_backlog_entries, 0u);
}

}  // namespace
}  // namespace candor::gallery
