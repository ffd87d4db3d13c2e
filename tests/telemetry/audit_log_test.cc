#include "server/telemetry/audit_log.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/telemetry/audit_chain.h"

namespace candor::telemetry {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

AuditRecord SearchRecord(int i) {
  AuditRecord r;
  r.start_time = absl::FromUnixMicros(1'700'000'000'000'000 + i);
  r.end_time = r.start_time + absl::Microseconds(250);
  r.operation = kAuditSearch;
  r.caller = "ipv4:127.0.0.1:5555 user=alice";
  r.purpose = absl::StrCat("case-", i);
  r.gallery = "faces";
  r.gallery_version = 12;
  r.threshold = 0.4f;
  r.threshold_source = "request";
  r.probe_count = 2;
  r.matched_entry_ids = {{7, 9}, {}};
  r.candidates_per_group = {{"A", 1}, {"B", 1}};
  r.verdict = Verdict{VerdictOutcome::kWarn, {"FPIR of group A is high"}};
  r.status_code = absl::StatusCode::kOk;
  return r;
}

std::vector<std::string> ReadLines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void WriteLines(const fs::path& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& line : lines) out << line << "\n";
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat("audit_", ::getpid(), "_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  AuditLog::Options Opts() {
    AuditLog::Options o;
    o.dir = dir_.string();
    return o;
  }

  void AppendRecords(const AuditLog::Options& options, int n, int first = 0) {
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = first; i < first + n; ++i) ASSERT_TRUE((*log)->Append(SearchRecord(i)).ok());
  }

  std::vector<fs::path> Files() {
    const absl::StatusOr<std::vector<std::string>> names = ListAuditFiles(dir_.string());
    EXPECT_TRUE(names.ok()) << names.status();
    std::vector<fs::path> files;
    for (const std::string& name : names.value_or(std::vector<std::string>{})) {
      files.push_back(dir_ / name);
    }
    return files;
  }

  std::string VerifyError() {
    const absl::Status s = VerifyAuditLog(dir_.string());
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    return std::string(s.message());
  }

  fs::path dir_;
};

TEST_F(AuditLogTest, RecordsCarryTheFieldsAndNoEmbedding) {
  AppendRecords(Opts(), 3);
  uint64_t records = 0;
  ASSERT_TRUE(VerifyAuditLog(dir_.string(), &records).ok());
  EXPECT_EQ(records, 4u);  // header + 3
  const std::vector<std::string> lines = ReadLines(Files()[0]);
  ASSERT_EQ(lines.size(), 4u);
  const nlohmann::json header = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(header["operation"], "file_header");
  EXPECT_EQ(header["seq"], 1);
  EXPECT_EQ(header["prev_hash"], kGenesisHash);
  const nlohmann::json j = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(j["seq"], 2);
  EXPECT_EQ(j["prev_hash"], header["hash"]);
  EXPECT_EQ(j["operation"], "Search");
  EXPECT_EQ(j["start_time"], "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(j["end_time"], "2023-11-14T22:13:20.000250Z");
  EXPECT_EQ(j["caller"], "ipv4:127.0.0.1:5555 user=alice");
  EXPECT_EQ(j["purpose"], "case-0");
  EXPECT_EQ(j["gallery_version"], 12);
  EXPECT_EQ(j["threshold"].get<double>(), 0.4);
  EXPECT_EQ(j["threshold_source"], "request");
  EXPECT_EQ(j["matched_entry_ids"], nlohmann::json::parse("[[7,9],[]]"));
  EXPECT_EQ(j["candidates_per_group"]["B"], 1);
  EXPECT_EQ(j["verdict"], "warn");
  EXPECT_EQ(j["violations"][0], "FPIR of group A is high");
  EXPECT_EQ(j["status_code"], "OK");
  EXPECT_EQ(j["hash"], Sha256Hex(lines[1].substr(0, lines[1].rfind(",\"hash\"")) + "}"));
}

TEST_F(AuditLogTest, EditedFieldIsNamed) {
  AppendRecords(Opts(), 5);
  std::vector<std::string> lines = ReadLines(Files()[0]);
  const size_t at = lines[2].find("case-1");
  ASSERT_NE(at, std::string::npos);
  lines[2].replace(at, 6, "case-X");
  WriteLines(Files()[0], lines);
  const std::string error = VerifyError();
  EXPECT_THAT(error, HasSubstr("line 3"));
  EXPECT_THAT(error, HasSubstr("edited"));
}

TEST_F(AuditLogTest, EditWithRecomputedHashBreaksTheNextLink) {
  AppendRecords(Opts(), 5);
  std::vector<std::string> lines = ReadLines(Files()[0]);
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(lines[2]);
  j.erase("hash");
  j["purpose"] = "forged";
  std::string hash;
  std::string sealed = SealRecord(j, &hash);
  sealed.pop_back();
  lines[2] = sealed;
  WriteLines(Files()[0], lines);
  const std::string error = VerifyError();
  EXPECT_THAT(error, HasSubstr("line 4 (seq 4)"));
  EXPECT_THAT(error, HasSubstr("prev_hash"));
}

TEST_F(AuditLogTest, DeletedReorderedAndInsertedRecords) {
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
  EXPECT_TRUE(VerifyAuditLog(dir_.string()).ok());
}

TEST_F(AuditLogTest, TruncatedFile) {
  AppendRecords(Opts(), 3);
  const fs::path file = Files()[0];
  fs::resize_file(file, fs::file_size(file) - 10);
  EXPECT_THAT(VerifyError(), HasSubstr("line 4 (seq 4): partial record"));
  // The writer refuses to continue a torn chain.
  EXPECT_EQ(AuditLog::Open(Opts()).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(AuditLogTest, RotationKeepsTheChainAcrossFilesAndRestarts) {
  AuditLog::Options o = Opts();
  o.max_file_bytes = 2048;
  AppendRecords(o, 30);
  AppendRecords(o, 5, 30);  // reopened: continues in a new file
  const std::vector<fs::path> files = Files();
  ASSERT_GE(files.size(), 4u);
  uint64_t records = 0;
  ASSERT_TRUE(VerifyAuditLog(dir_.string(), &records).ok());
  EXPECT_EQ(records, 35 + files.size());
  for (const fs::path& f : files) EXPECT_LE(fs::file_size(f), 2048u);
  // The next file's header holds the last hash of the one before.
  const std::vector<std::string> first = ReadLines(files[0]);
  const nlohmann::json second_header = nlohmann::json::parse(ReadLines(files[1])[0]);
  EXPECT_EQ(second_header["prev_hash"], nlohmann::json::parse(first.back())["hash"]);

  // Dropping the last record of a middle file breaks the next file's header.
  std::vector<std::string> lines = ReadLines(files[1]);
  lines.pop_back();
  WriteLines(files[1], lines);
  EXPECT_THAT(VerifyError(), HasSubstr(files[2].filename().string() + " line 1"));
}

TEST_F(AuditLogTest, RetentionByCountStillVerifies) {
  AuditLog::Options o = Opts();
  o.max_file_bytes = 2048;
  o.max_files = 2;
  AppendRecords(o, 40);
  std::vector<fs::path> files = Files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_NE(files[0].filename().string(), AuditFileName(1));
  EXPECT_TRUE(VerifyAuditLog(dir_.string()).ok());
  // Deleting a file retention kept is noticed.
  fs::remove(files[0]);
  EXPECT_THAT(VerifyError(), HasSubstr("earlier records were deleted"));
}

TEST_F(AuditLogTest, MiddleFileDeletedIsNoticed) {
  AuditLog::Options o = Opts();
  o.max_file_bytes = 2048;
  AppendRecords(o, 30);
  const std::vector<fs::path> files = Files();
  ASSERT_GE(files.size(), 3u);
  fs::remove(files[1]);
  EXPECT_THAT(VerifyError(), HasSubstr(files[2].filename().string() + " line 1"));
}

TEST_F(AuditLogTest, RetentionByAge) {
  AuditLog::Options o = Opts();
  o.max_file_bytes = 2048;
  AppendRecords(o, 20);
  const size_t before = Files().size();
  ASSERT_GE(before, 3u);
  // Age every file but the newest by two hours.
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(2);
  for (size_t i = 0; i + 1 < before; ++i) fs::last_write_time(Files()[i], old);
  o.max_age = absl::Hours(1);
  AppendRecords(o, 1, 20);
  EXPECT_EQ(Files().size(), 2u);
  EXPECT_TRUE(VerifyAuditLog(dir_.string()).ok());
}

TEST_F(AuditLogTest, ConcurrentAppendsFormOneChain) {
  AuditLog::Options o = Opts();
  o.sync_every_records = 16;
  o.max_file_bytes = 16 * 1024;
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o);
  ASSERT_TRUE(log.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 50; ++i) EXPECT_TRUE((*log)->Append(SearchRecord(t * 100 + i)).ok());
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE((*log)->Sync().ok());
  uint64_t records = 0;
  ASSERT_TRUE(VerifyAuditLog(dir_.string(), &records).ok());
  EXPECT_EQ(records, 200 + Files().size());
}

TEST_F(AuditLogTest, CommandLineExitCodes) {
  AppendRecords(Opts(), 2);
  const std::string cmd = absl::StrCat(CANDOR_AUDIT_BINARY, " verify ", dir_.string(),
                                       " >/dev/null 2>&1");
  int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 0);
  std::vector<std::string> lines = ReadLines(Files()[0]);
  lines.erase(lines.begin() + 1);
  WriteLines(Files()[0], lines);
  rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 1);
}

}  // namespace
}  // namespace candor::telemetry
