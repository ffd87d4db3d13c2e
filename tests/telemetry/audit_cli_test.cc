// `candor audit verify` as a user runs it: the summary line, the exit code
// and the first break named.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/clients/subprocess.h"
#include "tests/telemetry/audit_test_util.h"

namespace candor::telemetry {
namespace {

using test_util::CommandResult;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class AuditCliTest : public AuditTest {
 protected:
  void SetUp() override {
    AuditTest::SetUp();
    key_file_ = (root_ / "audit.key").string();
    std::ofstream(key_file_) << key_ << "\n";
  }
  CommandResult Candor(std::vector<std::string> args) {
    args.insert(args.begin(), CANDOR_CLI_PATH);
    return test_util::RunCommand(args, root_.string());
  }
  std::string key_file_;
};

TEST_F(AuditCliTest, VerifyPrintsTheHeadAndNamesTheFirstBreak) {
  AuditLog::Options o = Opts();
  o.checkpoint_path = checkpoint_.string();
  AppendRecords(o, 4);  // seq 1..5
  CommandResult r =
      Candor({"audit", "verify", dir_.string(), "--key", key_file_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "audit log " + dir_.string() +
                ": 5 records, chain intact (HMAC-SHA-256), last seq 5\n");
  r = Candor({"audit", "verify", dir_.string(), "--key", key_file_,
              "--checkpoint", checkpoint_.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("last seq 5, checkpoint seq 5 covered\n"));

  std::vector<std::string> lines = ReadLines(Files()[0]);
  lines.pop_back();
  WriteLines(Files()[0], lines);
  r = Candor({"audit", "verify", dir_.string(), "--key", key_file_});
  EXPECT_EQ(r.exit_code, 0) << "without a checkpoint a cut tail is invisible";
  r = Candor({"audit", "verify", dir_.string(), "--key", key_file_,
              "--checkpoint", checkpoint_.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("candor: error: DATA_LOSS: "));
  EXPECT_THAT(
      r.err,
      HasSubstr("truncated after checkpoint seq 5: the last record is seq 4"));

  lines.erase(lines.begin() + 2);
  WriteLines(Files()[0], lines);
  r = Candor({"audit", "verify", dir_.string(), "--key", key_file_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(Files()[0].filename().string() +
                               " line 3 (seq 4): expected seq 3"));
}

TEST_F(AuditCliTest, KeyIsRequiredAndChecked) {
  AppendRecords(Opts(), 1);
  CommandResult r = Candor({"audit", "verify", dir_.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--key"));
  std::ofstream((root_ / "short.key").string()) << "short\n";
  r = Candor({"audit", "verify", dir_.string(), "--key",
              (root_ / "short.key").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("openssl rand -hex 32"));
  std::ofstream((root_ / "other.key").string()) << std::string(64, 'f') << "\n";
  r = Candor({"audit", "verify", dir_.string(), "--key",
              (root_ / "other.key").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("another key"));
}

}  // namespace
}  // namespace candor::telemetry
