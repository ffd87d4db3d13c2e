// Compaction erases removed vectors from every file under the data
// directory; automatic compaction runs after the delay or past the log cap.
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/gallery/gallery.h"
#include "server/gallery/gallery_store.h"
#include "tests/gallery/test_util.h"

namespace candor::gallery {
namespace {

using testing::CountInFiles;
using testing::ScratchDir;

constexpr int kDim = 32;
constexpr int kRows = 20;

GalleryConfig Config() {
  GalleryConfig c;
  c.name = "erasure";
  c.index.dimension = kDim;
  return c;
}

std::string RowBytes(const std::vector<float>& rows, int row) {
  return std::string(reinterpret_cast<const char*>(rows.data() + row * kDim),
                     kDim * sizeof(float));
}

// A 16-byte window from the middle of a row.
std::string RowWindow(const std::vector<float>& rows, int row) {
  return RowBytes(rows, row).substr(40, 16);
}

class CompactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions options;
    options.data_dir = scratch_.path();
    // Automatic compaction stays out of the way unless a test asks.
    options.compaction_poll = absl::Hours(1);
    options.gallery.compaction_delay = absl::Hours(1);
    auto store = GalleryStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto g = store_->Create(Config());
    ASSERT_TRUE(g.ok()) << g.status();
    gallery_ = *g;
    rows_ = testing::RandomUnitRows(kRows, kDim, 1234);
    std::vector<std::string> subjects;
    for (int i = 0; i < kRows; ++i) subjects.push_back("p" + std::to_string(i));
    auto r = gallery_->Enroll(rows_, subjects, {}, "req");
    ASSERT_TRUE(r.ok()) << r.status();
    ids_ = r->entry_ids;
  }

  // Removes the even rows.
  void RemoveEvenRows() {
    std::vector<EntryId> gone;
    for (int i = 0; i < kRows; i += 2) gone.push_back(ids_[i]);
    ASSERT_TRUE(gallery_->RemoveEntries(gone).ok());
  }

  void ExpectErased(bool erased) {
    for (int i = 0; i < kRows; ++i) {
      const bool removed = i % 2 == 0;
      const int whole = CountInFiles(scratch_.path(), RowBytes(rows_, i));
      const int window = CountInFiles(scratch_.path(), RowWindow(rows_, i));
      if (removed && erased) {
        EXPECT_EQ(whole, 0) << "removed row " << i;
        EXPECT_EQ(window, 0) << "removed row " << i;
      } else {
        EXPECT_GE(whole, 1) << "row " << i;
        EXPECT_GE(window, 1) << "row " << i;
      }
    }
  }

  ScratchDir scratch_;
  std::unique_ptr<GalleryStore> store_;
  std::shared_ptr<Gallery> gallery_;
  std::vector<float> rows_;
  std::vector<EntryId> ids_;
};

TEST_F(CompactionTest, CompactionErasesRemovedVectorsFromEveryFile) {
  RemoveEvenRows();
  ExpectErased(false);  // still in the log until compaction
  auto result = gallery_->Compact();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->erased_entries, kRows / 2u);
  EXPECT_LT(result->bytes_after, result->bytes_before);
  ExpectErased(true);

  // A second compaction (older snapshot now exists) keeps it that way, and
  // the kept entries survive a reopen of the whole store.
  ASSERT_TRUE(gallery_->Compact().ok());
  ExpectErased(true);
  gallery_.reset();
  store_.reset();
  StoreOptions options;
  options.data_dir = scratch_.path();
  auto store = GalleryStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  auto g = (*store)->Get("erasure");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)->Info().size, kRows / 2u);
  std::vector<float> v(kDim);
  ASSERT_TRUE((*g)->GetVector(ids_[1], v.data()).ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(v.data()),
                        kDim * sizeof(float)),
            RowBytes(rows_, 1));
  EXPECT_EQ((*g)->GetVector(ids_[0], v.data()).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CompactionTest, MaybeCompactWaitsForTheDelay) {
  RemoveEvenRows();
  ASSERT_TRUE(gallery_->MaybeCompact(absl::Now()).ok());
  ExpectErased(false);
  ASSERT_TRUE(
      gallery_->MaybeCompact(absl::Now() + absl::Hours(1) + absl::Seconds(1))
          .ok());
  ExpectErased(true);
}

TEST_F(CompactionTest, MaybeCompactWithoutRemovalsDoesNothing) {
  const auto before = testing::FilesUnder(scratch_.path());
  ASSERT_TRUE(gallery_->MaybeCompact(absl::Now() + absl::Hours(2)).ok());
  EXPECT_EQ(testing::FilesUnder(scratch_.path()), before);
}

TEST(AutomaticCompactionTest, BackgroundThreadCompactsAfterTheDelay) {
  ScratchDir scratch;
  StoreOptions options;
  options.data_dir = scratch.path();
  options.compaction_poll = absl::Milliseconds(20);
  options.gallery.compaction_delay = absl::Milliseconds(100);
  auto store = GalleryStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  auto g = (*store)->Create(Config());
  ASSERT_TRUE(g.ok());
  const std::vector<float> rows = testing::RandomUnitRows(2, kDim, 9);
  auto r = (*g)->Enroll(rows, {"a", "b"}, {}, "");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE((*g)->RemoveEntries({r->entry_ids[0]}).ok());
  // Bounded wait for the background thread (no timing assertion: only
  // that it happens at all within a generous bound).
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (CountInFiles(scratch.path(), RowBytes(rows, 0)) > 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(CountInFiles(scratch.path(), RowBytes(rows, 0)), 0);
  EXPECT_GE(CountInFiles(scratch.path(), RowBytes(rows, 1)), 1);
  (*store)->Shutdown();
}

TEST(AutomaticCompactionTest, LogPastItsCapIsCompacted) {
  ScratchDir scratch;
  GalleryOptions options;
  options.max_wal_bytes = 4096;
  GalleryConfig config = Config();
  const std::string dir = scratch.path() + "/g";
  auto g = Gallery::Create(dir, config, options);
  ASSERT_TRUE(g.ok());
  const std::vector<float> rows = testing::RandomUnitRows(40, kDim, 5);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE((*g)->Enroll(absl::MakeConstSpan(rows).subspan(i * kDim, kDim),
                             {"s"}, {}, "")
                    .ok());
  }
  auto files_before = testing::FilesUnder(dir);
  ASSERT_TRUE((*g)->MaybeCompact(absl::Now()).ok());
  int snapshots = 0;
  uint64_t wal_bytes = 0;
  for (const std::string& f : testing::FilesUnder(dir)) {
    if (f.find("snapshot-") != std::string::npos) ++snapshots;
    if (f.find("wal-") != std::string::npos) {
      wal_bytes += testing::ReadAll(f).size();
    }
  }
  EXPECT_EQ(snapshots, 1);
  EXPECT_LE(wal_bytes, 4096u);
  // Below the cap now: nothing more to do.
  const auto files_after = testing::FilesUnder(dir);
  ASSERT_TRUE((*g)->MaybeCompact(absl::Now()).ok());
  EXPECT_EQ(testing::FilesUnder(dir), files_after);
  EXPECT_EQ((*g)->Info().size, 40u);
}

}  // namespace
}  // namespace candor::gallery
