#include "server/telemetry/calibration_io.h"

#include <filesystem>
#include <fstream>
#include <random>

#include "gtest/gtest.h"
#include "server/storage/env.h"
#include "server/storage/record.h"

namespace candor::telemetry {
namespace {

Calibration RandomCalibration() {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> score(-1.0f, 1.0f);
  std::vector<NonMatedObservation> nonmated;
  std::vector<MatedObservation> mated;
  const char* groups[] = {"", "A", "B"};
  for (int i = 0; i < 500; ++i) {
    nonmated.push_back({groups[i % 3], i % 17 == 0 ? kNoScore : score(rng)});
    mated.push_back({groups[i % 3], score(rng), i % 13 == 0 ? -1 : i % 12});
  }
  CalibrationMeta meta;
  meta.created_at_us = 1'700'000'000'123'456;
  meta.gallery_size = 123'456;
  meta.gallery_version = 99;
  meta.source = kSourceSelfAudit;
  meta.top_k = 10;
  return *Calibration::Build(meta, nonmated, mated);
}

void ExpectSame(const Calibration& a, const Calibration& b) {
  EXPECT_EQ(a.meta().created_at_us, b.meta().created_at_us);
  EXPECT_EQ(a.meta().gallery_size, b.meta().gallery_size);
  EXPECT_EQ(a.meta().gallery_version, b.meta().gallery_version);
  EXPECT_EQ(a.meta().source, b.meta().source);
  EXPECT_EQ(a.meta().top_k, b.meta().top_k);
  ASSERT_EQ(a.groups().size(), b.groups().size());
  for (size_t i = 0; i < a.groups().size(); ++i) {
    EXPECT_EQ(a.groups()[i].group, b.groups()[i].group);
    EXPECT_EQ(a.groups()[i].nonmated_top1, b.groups()[i].nonmated_top1);
    EXPECT_EQ(a.groups()[i].mated, b.groups()[i].mated);
  }
  EXPECT_EQ(a.overall().nonmated_top1, b.overall().nonmated_top1);
}

class CalibrationIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("calibration_io_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(CalibrationIoTest, SaveLoadRoundTrip) {
  const Calibration cal = RandomCalibration();
  const std::string path = (dir_ / "calibration.bin").string();
  storage::Env* env = storage::Env::Default();
  ASSERT_TRUE(SaveCalibration(env, cal, path).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  absl::StatusOr<Calibration> back = LoadCalibration(env, path);
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSame(cal, *back);
  // Saving again replaces the file.
  ASSERT_TRUE(SaveCalibration(env, *back, path).ok());
  EXPECT_EQ(*env->ReadFile(path), SerializeCalibration(cal));
}

TEST_F(CalibrationIoTest, MissingFileIsNotFound) {
  EXPECT_EQ(LoadCalibration(storage::Env::Default(), (dir_ / "none").string())
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST(CalibrationParseTest, DetectsEveryFlippedByte) {
  const std::string bytes = SerializeCalibration(RandomCalibration());
  // Every 7th byte, so that header, payload and checksum are all hit.
  for (size_t i = 0; i < bytes.size(); i += 7) {
    std::string bad = bytes;
    bad[i] ^= 0x20;
    const absl::StatusOr<Calibration> parsed = ParseCalibration(bad);
    EXPECT_FALSE(parsed.ok()) << "flip at byte " << i;
  }
}

TEST(CalibrationParseTest, DetectsTruncationAndWrongVersion) {
  const std::string bytes = SerializeCalibration(RandomCalibration());
  for (size_t n :
       {size_t{0}, size_t{7}, size_t{20}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_EQ(ParseCalibration(bytes.substr(0, n)).status().code(),
              absl::StatusCode::kDataLoss)
        << "truncated to " << n;
  }
  std::string later = bytes;
  later[8] = 3;  // format version, low byte
  EXPECT_EQ(ParseCalibration(later).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ParseCalibration(bytes + "x").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(CalibrationParseTest, IsOneFramedRecordOfTheLogFraming) {
  const std::string bytes = SerializeCalibration(RandomCalibration());
  // Magic and version, then exactly one record as the write-ahead log
  // frames its records.
  const storage::FramedRecord record =
      storage::ReadFramedRecord(absl::string_view(bytes).substr(12));
  ASSERT_TRUE(record.ok()) << record.error;
  EXPECT_EQ(12 + record.bytes, bytes.size());
}

TEST(CalibrationParseTest, TheOldFormatIsRefusedAsUnreadable) {
  // Format 1 (before the files were framed protobuf messages).
  std::string v1("CANDCAL1\x01\0\0\0", 12);
  v1 += std::string(40, '\0');
  const absl::Status s = ParseCalibration(v1).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("calibrate again"), std::string::npos);
}

}  // namespace
}  // namespace candor::telemetry
