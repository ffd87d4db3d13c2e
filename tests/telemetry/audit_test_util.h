// What the audit tests share: a record, line-level file access, and a
// fixture with a scratch folder, a key and a checkpoint path.
#ifndef CANDOR_TESTS_TELEMETRY_AUDIT_TEST_UTIL_H_
#define CANDOR_TESTS_TELEMETRY_AUDIT_TEST_UTIL_H_

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/telemetry/audit_chain.h"
#include "server/telemetry/audit_log.h"
#include "server/telemetry/audit_verify.h"

namespace candor::telemetry {

inline AuditRecord SearchRecord(int i) {
  AuditRecord r;
  r.start_time = absl::FromUnixMicros(1'700'000'000'000'000 + i);
  r.end_time = r.start_time + absl::Microseconds(250);
  r.operation = "Search";
  r.identity = "spiffe://example.org/ns/app/sa/searcher";
  r.peer = "ipv4:127.0.0.1:5555";
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

inline std::vector<std::string> ReadLines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline void WriteLines(const std::filesystem::path& path,
                       const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& line : lines) out << line << "\n";
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ =
        std::filesystem::path(::testing::TempDir()) /
        absl::StrCat(
            "audit_", ::getpid(), "_",
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
    dir_ = root_ / "audit";
    checkpoint_ = root_ / "checkpoint.json";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  AuditLog::Options Opts() const {
    AuditLog::Options o;
    o.dir = dir_.string();
    o.key = key_;
    return o;
  }

  // Opens the log, appends n records (SearchRecord(first..)), closes it.
  void AppendRecords(const AuditLog::Options& options, int n, int first = 0) {
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = first; i < first + n; ++i) {
      ASSERT_TRUE((*log)->AppendAndWait(SearchRecord(i)).ok());
    }
  }

  std::vector<std::filesystem::path> Files() const {
    const absl::StatusOr<std::vector<std::string>> names =
        ListAuditFiles(dir_.string());
    EXPECT_TRUE(names.ok()) << names.status();
    std::vector<std::filesystem::path> files;
    for (const std::string& name : names.value_or(std::vector<std::string>{})) {
      files.push_back(dir_ / name);
    }
    return files;
  }

  absl::Status Verify(VerifyResult* result = nullptr,
                      bool with_checkpoint = false,
                      const std::string& key = "") const {
    VerifyOptions options;
    options.dir = dir_.string();
    options.key = key.empty() ? key_ : key;
    if (with_checkpoint) options.checkpoint_path = checkpoint_.string();
    VerifyResult ignored;
    return VerifyAuditLog(options, result != nullptr ? result : &ignored);
  }

  // The message of a verification that must fail with DataLoss.
  std::string VerifyError(bool with_checkpoint = false) const {
    const absl::Status s = Verify(nullptr, with_checkpoint);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    return std::string(s.message());
  }

  std::filesystem::path root_;
  std::filesystem::path dir_;
  std::filesystem::path checkpoint_;
  std::string key_ = "0123456789abcdef0123456789abcdef-test-key";
};

}  // namespace candor::telemetry

#endif  // CANDOR_TESTS_TELEMETRY_AUDIT_TEST_UTIL_H_
