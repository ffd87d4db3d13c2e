// The calibration store both roles keep: files through the Env, damaged
// files sealed aside, saves serialized.
#include "server/telemetry/calibration_store.h"

#include <fstream>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/storage/files.h"
#include "tests/storage/fault_env.h"
#include "tests/telemetry/telemetry_test_util.h"

namespace candor::telemetry {
namespace {

CalibrationStore::Ptr Cal(int64_t created_at_us) {
  CalibrationMeta meta;
  meta.created_at_us = created_at_us;
  meta.gallery_size = 100;
  meta.source = kSourceLabeled;
  return std::make_shared<const Calibration>(
      *Calibration::Build(meta, {{"A", 0.2f}, {"B", 0.3f}}, {}));
}

TEST(CalibrationStoreTest, SavedCalibrationsAreFoundAfterReopening) {
  testing::ScratchDir dir;
  {
    auto store = CalibrationStore::Open(dir.path());
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Save("faces", Cal(5)).ok());
    ASSERT_TRUE((*store)->Save("dogs", Cal(6)).ok());
    (*store)->Forget("dogs");
    EXPECT_EQ((*store)->Find("dogs"), nullptr);
  }
  auto store = CalibrationStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  ASSERT_NE((*store)->Find("faces"), nullptr);
  EXPECT_EQ((*store)->Find("faces")->meta().created_at_us, 5);
  EXPECT_EQ((*store)->Find("dogs"), nullptr);
}

TEST(CalibrationStoreTest, AFailedWriteKeepsTheOldCalibration) {
  testing::ScratchDir dir;
  storage::testing::FaultEnv env;
  auto store = CalibrationStore::Open(dir.path(), &env);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Save("g", Cal(1)).ok());
  env.FailAt(1, storage::testing::Op::kRename);
  EXPECT_FALSE((*store)->Save("g", Cal(2)).ok());
  EXPECT_EQ((*store)->Find("g")->meta().created_at_us, 1);
}

TEST(CalibrationStoreTest, ADamagedFileIsSealedAsideNotErased) {
  testing::ScratchDir dir;
  { std::ofstream(dir.path() + "/bad.cal") << "garbage!"; }
  auto store = CalibrationStore::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Find("bad"), nullptr);
  const std::vector<QuarantineRecord> damaged = (*store)->Damaged();
  ASSERT_EQ(damaged.size(), 1u);
  EXPECT_EQ(damaged[0].kind, "calibration");
  EXPECT_EQ(damaged[0].name, "bad");
  EXPECT_NE(damaged[0].path.find("bad.cal.damaged-"), std::string::npos);
  EXPECT_TRUE(storage::Env::Default()->FileExists(damaged[0].path));
}

// Saves of one gallery share one temporary file name: the store writes
// them one at a time, so each succeeds and the file holds a whole one.
TEST(CalibrationStoreTest, ConcurrentSavesOfOneGalleryAllSucceed) {
  testing::ScratchDir dir;
  auto store = CalibrationStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  constexpr int kThreads = 4;
  constexpr int kSaves = 10;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSaves; ++i) {
        if (!(*store)->Save("g", Cal(t * 100 + i)).ok()) ++failures[t];
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << t;
  auto reopened = CalibrationStore::Open(dir.path());
  ASSERT_TRUE(reopened.ok());
  ASSERT_NE((*reopened)->Find("g"), nullptr);
  EXPECT_TRUE((*reopened)->Damaged().empty());
}

TEST(CalibrationStoreTest, MemoryOnlyStoreKeepsWhatItSaves) {
  CalibrationStore store;
  ASSERT_TRUE(store.Save("g", Cal(3)).ok());
  EXPECT_EQ(store.Find("g")->meta().created_at_us, 3);
}

}  // namespace
}  // namespace candor::telemetry
