// The batched SearchRunner over a real gallery store.
#include <memory>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/api/search_runner.h"
#include "tests/api/test_server.h"

namespace candor::api {
namespace {

constexpr int kDim = 4;
constexpr int64_t kCreatedAtUs = 1'700'000'000'000'000;

class BatchedSearchRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = testing::MakeTempDir("candor-runner-test");
    gallery::StoreOptions options;
    options.data_dir = data_dir_;
    options.gallery.sync_wal = false;
    auto store = gallery::GalleryStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto runner = MakeBatchedSearchRunner(batching::BatcherOptions(),
                                          store_.get(), /*observer=*/nullptr);
    ASSERT_TRUE(runner.ok()) << runner.status();
    runner_ = *std::move(runner);
  }

  void TearDown() override {
    runner_->Shutdown();
    store_.reset();
    testing::RemoveTree(data_dir_);
  }

  // A gallery "faces" holding one entry, the unit vector along `axis`.
  std::shared_ptr<gallery::Gallery> CreateWithOneEntry(int axis) {
    gallery::GalleryConfig config;
    config.name = "faces";
    config.index.dimension = kDim;
    // Every incarnation of "faces" has the same creation time: only the
    // gallery object itself tells them apart.
    config.created_at_us = kCreatedAtUs;
    auto created = store_->Create(config);
    EXPECT_TRUE(created.ok()) << created.status();
    std::vector<float> row(kDim, 0.0f);
    row[axis] = 1.0f;
    auto enrolled = (*created)->Enroll(row, {"subject"}, {}, "");
    EXPECT_TRUE(enrolled.ok()) << enrolled.status();
    return *created;
  }

  absl::StatusOr<SearchOutcome> SearchAxis(
      std::shared_ptr<gallery::Gallery> gallery, int axis) {
    std::vector<float> probe(kDim, 0.0f);
    probe[axis] = 1.0f;
    absl::StatusOr<SearchOutcome> outcome;
    absl::Notification done;
    runner_->Run(std::move(gallery), probe, {ProbeQuery{-1.0f, 1}},
                 absl::InfiniteFuture(),
                 [&](absl::StatusOr<SearchOutcome> result) {
                   outcome = std::move(result);
                   done.Notify();
                 });
    done.WaitForNotification();
    return outcome;
  }

  std::string data_dir_;
  std::unique_ptr<gallery::GalleryStore> store_;
  std::unique_ptr<SearchRunner> runner_;
};

TEST_F(BatchedSearchRunnerTest, SearchesTheGalleryItWasGiven) {
  auto gallery = CreateWithOneEntry(0);
  auto outcome = SearchAxis(gallery, 0);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_EQ(outcome->candidates.size(), 1u);
  ASSERT_EQ(outcome->candidates[0].size(), 1u);
  EXPECT_NEAR(outcome->candidates[0][0].score, 1.0f, 1e-6f);
}

// A search submitted for a gallery that has since been deleted and created
// again under the same name (the state a queued request finds when its
// batch runs) must not be answered from the new gallery, even when the two
// were created within the same microsecond.
TEST_F(BatchedSearchRunnerTest, ARecreatedGalleryDoesNotAnswerForTheOldOne) {
  auto old_gallery = CreateWithOneEntry(0);
  ASSERT_TRUE(store_->Delete("faces").ok());
  auto new_gallery = CreateWithOneEntry(1);
  ASSERT_EQ(old_gallery->created_at_us(), new_gallery->created_at_us());

  auto stale = SearchAxis(old_gallery, 1);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kNotFound)
      << stale.status();
  EXPECT_NE(
      stale.status().message().find("deleted while the search was queued"),
      std::string::npos)
      << stale.status();

  auto fresh = SearchAxis(new_gallery, 1);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_NEAR(fresh->candidates[0][0].score, 1.0f, 1e-6f);
}

}  // namespace
}  // namespace candor::api
