// VerifyAuditLog against tampering: edited bytes, deleted, reordered and
// inserted records, deleted files, another key, and (with a checkpoint) a
// tail cut off or rewritten.
#include "server/telemetry/audit_verify.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/storage/env.h"
#include "server/telemetry/audit_checkpoint.h"
#include "tests/telemetry/audit_test_util.h"

namespace candor::telemetry {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class AuditVerifyTest : public AuditTest {
 protected:
  AuditLog::Options WithCheckpoint() const {
    AuditLog::Options o = Opts();
    o.checkpoint_path = checkpoint_.string();
    return o;
  }
};

TEST_F(AuditVerifyTest, IntactLogReportsItsHead) {
  AppendRecords(WithCheckpoint(), 3);
  VerifyResult result;
  ASSERT_TRUE(Verify(&result, /*with_checkpoint=*/true).ok());
  EXPECT_EQ(result.records, 4u);
  EXPECT_EQ(result.last_seq, 4u);
  EXPECT_EQ(result.checkpoint_seq, 4u);
  EXPECT_EQ(result.last_hash,
            nlohmann::json::parse(ReadLines(Files()[0]).back())["hash"]);
  EXPECT_TRUE(result.notes.empty());
}

TEST_F(AuditVerifyTest, EditedFieldIsNamed) {
  AppendRecords(Opts(), 5);
  std::vector<std::string> lines = ReadLines(Files()[0]);
  const size_t at = lines[2].find("case-1");
  ASSERT_NE(at, std::string::npos);
  lines[2].replace(at, 6, "case-X");
  WriteLines(Files()[0], lines);
  const std::string error = VerifyError();
  EXPECT_THAT(error,
              HasSubstr(Files()[0].filename().string() + " line 3 (seq 3)"));
  EXPECT_THAT(error, HasSubstr("does not match its HMAC"));
}

TEST_F(AuditVerifyTest, ResealingNeedsTheKey) {
  AppendRecords(Opts(), 5);
  const std::vector<std::string> good = ReadLines(Files()[0]);
  auto reseal = [&](const std::string& key) {
    std::vector<std::string> lines = good;
    AuditJson j = AuditJson::parse(lines[2]);
    j.erase("hash");
    j["purpose"] = "forged";
    std::string hash;
    lines[2] = SealRecord(j, key, &hash);
    lines[2].pop_back();  // '\n'
    WriteLines(Files()[0], lines);
  };
  // Without the key the forged record fails its own HMAC.
  reseal("a guessed key of thirty-two bytes!!");
  EXPECT_THAT(VerifyError(),
              HasSubstr("line 3 (seq 3): record does not match its HMAC"));
  // Even with the key, the next record's prev_hash names the original.
  reseal(key_);
  EXPECT_THAT(VerifyError(), HasSubstr("line 4 (seq 4): prev_hash"));
}

// Every byte of every file, flipped one at a time, is noticed: record
// bodies, hashes, the newlines between records, and the file headers.
TEST_F(AuditVerifyTest, FlippingAnyByteIsDetected) {
  AuditLog::Options o = Opts();
  o.max_file_bytes = 2048;
  AppendRecords(o, 6);
  const std::vector<fs::path> files = Files();
  ASSERT_GE(files.size(), 2u);
  ASSERT_TRUE(Verify().ok());
  size_t flips = 0;
  auto put = [](const fs::path& file, size_t at, char byte) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(at));
    f.put(byte);
  };
  for (const fs::path& file : files) {
    const std::string good = *storage::Env::Default()->ReadFile(file.string());
    for (size_t i = 0; i < good.size(); ++i) {
      put(file, i, static_cast<char>(good[i] ^ 0x01));
      const absl::Status s = Verify();
      put(file, i, good[i]);
      ASSERT_EQ(s.code(), absl::StatusCode::kDataLoss)
          << file.filename() << " byte " << i << " ('" << good[i]
          << "') flipped: " << s;
      ++flips;
    }
  }
  EXPECT_GT(flips, 2000u);
  EXPECT_TRUE(Verify().ok());
}

TEST_F(AuditVerifyTest, DeletedReorderedAndInsertedRecords) {
  AppendRecords(Opts(), 6);
  const std::vector<std::string> good = ReadLines(Files()[0]);

  std::vector<std::string> lines = good;
  lines.erase(lines.begin() + 3);
  WriteLines(Files()[0], lines);
  EXPECT_THAT(VerifyError(), HasSubstr("line 4 (seq 5): expected seq 4"));

  lines = good;
  std::swap(lines[2], lines[3]);
  WriteLines(Files()[0], lines);
  EXPECT_THAT(VerifyError(), HasSubstr("line 3 (seq 4): expected seq 3"));

  lines = good;
  lines.insert(lines.begin() + 3, good[3]);
  WriteLines(Files()[0], lines);
  EXPECT_THAT(VerifyError(), HasSubstr("line 5 (seq 4): expected seq 5"));

  WriteLines(Files()[0], good);
  EXPECT_TRUE(Verify().ok());
}

TEST_F(AuditVerifyTest, DeletedMiddleFileAndLastRecordOfAMiddleFile) {
  AuditLog::Options o = Opts();
  o.max_file_bytes = 2048;
  AppendRecords(o, 30);
  const std::vector<fs::path> files = Files();
  ASSERT_GE(files.size(), 3u);
  const std::vector<std::string> good = ReadLines(files[1]);
  std::vector<std::string> lines = good;
  lines.pop_back();
  WriteLines(files[1], lines);
  EXPECT_THAT(VerifyError(),
              HasSubstr(files[2].filename().string() + " line 1"));
  WriteLines(files[1], good);
  fs::remove(files[1]);
  EXPECT_THAT(VerifyError(),
              HasSubstr(files[2].filename().string() + " line 1"));
}

TEST_F(AuditVerifyTest, DeletingAFileRetentionKeptIsNoticed) {
  AuditLog::Options o = Opts();
  o.max_file_bytes = 2048;
  o.max_files = 2;
  AppendRecords(o, 40);
  const std::vector<fs::path> files = Files();
  ASSERT_EQ(files.size(), 2u);
  ASSERT_TRUE(Verify().ok());
  fs::remove(files[0]);
  EXPECT_THAT(VerifyError(), HasSubstr("earlier records were deleted"));
}

// The chain alone cannot tell a tail cut off after its last record from
// records never written; the checkpoint can.
TEST_F(AuditVerifyTest, TailDeletedAfterACheckpointNeedsTheCheckpoint) {
  AppendRecords(WithCheckpoint(), 5);  // seq 1..6, checkpoint 6
  std::vector<std::string> lines = ReadLines(Files()[0]);
  lines.resize(4);
  WriteLines(Files()[0], lines);
  VerifyResult result;
  EXPECT_TRUE(Verify(&result).ok());  // without the checkpoint: undetectable
  EXPECT_EQ(result.last_seq, 4u);
  const std::string error = VerifyError(/*with_checkpoint=*/true);
  EXPECT_THAT(error, HasSubstr("the log was truncated after checkpoint seq 6: "
                               "the last record is seq 4"));
  EXPECT_THAT(error, HasSubstr(Files()[0].filename().string() + " line 4"));
}

TEST_F(AuditVerifyTest, NewestFileDeletedAfterACheckpoint) {
  AuditLog::Options o = WithCheckpoint();
  o.max_file_bytes = 2048;
  AppendRecords(o, 12);
  ASSERT_GE(Files().size(), 2u);
  fs::remove(Files().back());
  EXPECT_TRUE(Verify().ok());
  EXPECT_THAT(VerifyError(/*with_checkpoint=*/true),
              HasSubstr("truncated after checkpoint seq"));
}

TEST_F(AuditVerifyTest, TailRewrittenAfterACheckpoint) {
  AppendRecords(WithCheckpoint(), 5);  // checkpoint 6
  const std::string checkpoint =
      *storage::Env::Default()->ReadFile(checkpoint_.string());
  std::vector<std::string> lines = ReadLines(Files()[0]);
  lines.resize(4);
  WriteLines(Files()[0], lines);
  fs::remove(checkpoint_);
  AppendRecords(WithCheckpoint(), 3, 100);  // seq 5 (header), 6, 7: another 6
  std::ofstream(checkpoint_, std::ios::trunc) << checkpoint;
  EXPECT_THAT(VerifyError(/*with_checkpoint=*/true),
              HasSubstr("line 2 (seq 6): not the record checkpoint"));
}

TEST_F(AuditVerifyTest, EditedCheckpointIsRefused) {
  AppendRecords(WithCheckpoint(), 5);
  std::string line = *storage::Env::Default()->ReadFile(checkpoint_.string());
  ASSERT_NE(line.find("\"seq\":6"), std::string::npos);
  line.replace(line.find("\"seq\":6"), 7, "\"seq\":4");
  std::ofstream(checkpoint_, std::ios::trunc) << line;
  const std::string error = VerifyError(/*with_checkpoint=*/true);
  EXPECT_THAT(error, HasSubstr(checkpoint_.string()));
  EXPECT_THAT(error, HasSubstr("does not match its HMAC"));
}

TEST_F(AuditVerifyTest, MissingCheckpointIsNotFound) {
  AppendRecords(Opts(), 1);
  EXPECT_EQ(Verify(nullptr, /*with_checkpoint=*/true).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AuditVerifyTest, AnotherKeyIsRefused) {
  AppendRecords(Opts(), 2);
  const absl::Status s =
      Verify(nullptr, false, "another key of thirty-two bytes..");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("line 1: record does not match its HMAC \"hash\" "
                        "(edited, or another key)"));
  EXPECT_EQ(Verify(nullptr, false, "x").code(), absl::StatusCode::kDataLoss);
}

TEST_F(AuditVerifyTest, TruncatedNewestFile) {
  AppendRecords(Opts(), 3);
  const fs::path file = Files()[0];
  fs::resize_file(file, fs::file_size(file) - 10);
  EXPECT_THAT(VerifyError(), HasSubstr("line 4 (seq 4): partial record"));
}

// A write that failed, and whose file could not be cut back, leaves a torn
// line at the end of a file the log then left behind: a note, not a break,
// as long as the next file chains from the record before it.
TEST_F(AuditVerifyTest, TornLineAtTheEndOfAnOlderFileIsANote) {
  AppendRecords(Opts(), 2);
  AppendRecords(Opts(), 1, 2);  // reopened: a second file
  ASSERT_EQ(Files().size(), 2u);
  const fs::path older = Files()[0];
  std::ofstream(older, std::ios::app) << R"({"seq":4,"start_ti)";
  VerifyResult result;
  const absl::Status s = Verify(&result);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(result.notes.size(), 1u);
  EXPECT_THAT(result.notes[0],
              HasSubstr(older.filename().string() + " line 4"));
  EXPECT_THAT(result.notes[0], HasSubstr("torn"));
  // Cutting a real record that way shows: the next header no longer fits.
  std::string content = *storage::Env::Default()->ReadFile(older.string());
  content.resize(content.rfind("\n{\"seq\":4") + 1);
  content.pop_back();
  std::ofstream(older, std::ios::binary | std::ios::trunc) << content;
  EXPECT_THAT(VerifyError(),
              HasSubstr(Files()[1].filename().string() + " line 1"));
}

TEST_F(AuditVerifyTest, EmptyFolderIsNotFound) {
  fs::create_directories(dir_);
  EXPECT_EQ(Verify().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace candor::telemetry
