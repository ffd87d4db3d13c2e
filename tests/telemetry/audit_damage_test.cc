// A damaged audit log does not stop the server: Open seals the damaged files
// (and the checkpoint, when it is the evidence) aside, starts a new chain
// whose first header links to the last record that verified, and
// VerifyAuditLog names the break.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/telemetry/audit_checkpoint.h"
#include "tests/telemetry/audit_test_util.h"
#ifdef CANDOR_CLI_PATH
#include "tests/clients/subprocess.h"
#endif

namespace candor::telemetry {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

class AuditDamageTest : public AuditTest {
 protected:
  // Files in the audit folder whose name ends in `.damaged-<time>`.
  std::vector<std::string> Sealed() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      const std::string name = e.path().filename().string();
      if (name.find(".damaged-") != std::string::npos) out.push_back(name);
    }
    return out;
  }
};

TEST_F(AuditDamageTest, FlippedLastRecordIsSealedAndTheNewChainLinksToTheBreak) {
  AuditLog::Options o = Opts();
  o.checkpoint_path = checkpoint_.string();
  AppendRecords(o, 4);  // file 1: header + seq 2..5
  AppendRecords(o, 3, 4);  // file 2: header seq 6, seq 7..9
  ASSERT_THAT(Files(), SizeIs(2));
  const std::filesystem::path damaged = Files()[1];
  std::vector<std::string> lines = ReadLines(damaged);
  ASSERT_EQ(lines.size(), 4u);
  lines[3][lines[3].find("case-") + 5] = 'X';  // seq 9's purpose
  WriteLines(damaged, lines);

  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_THAT((*log)->sealed(), SizeIs(2));  // the file and the checkpoint
  EXPECT_EQ((*log)->sealed()[0].kind, "audit_log");
  EXPECT_EQ((*log)->sealed()[0].name, damaged.filename().string());
  EXPECT_THAT((*log)->sealed()[0].reason, HasSubstr("line 4"));
  EXPECT_EQ((*log)->sealed()[1].kind, "audit_checkpoint");
  // The new chain continues from seq 8, the last record that verified.
  EXPECT_EQ((*log)->head().seq, 9u);
  ASSERT_TRUE((*log)->AppendAndWait(SearchRecord(20)).ok());
  log->reset();

  ASSERT_THAT(Sealed(), SizeIs(1));
  ASSERT_THAT(Files(), SizeIs(2));  // file 1 and the new one
  const nlohmann::json header = nlohmann::json::parse(ReadLines(Files()[1])[0]);
  ASSERT_TRUE(header.contains("break")) << header.dump();
  EXPECT_EQ(header["break"]["last_verified_seq"], 8);
  EXPECT_EQ(header["break"]["sealed"][0], Sealed()[0]);
  EXPECT_THAT(header["break"]["reason"].get<std::string>(),
              HasSubstr(damaged.filename().string() + " line 4"));

  VerifyResult result;
  ASSERT_TRUE(Verify(&result, /*with_checkpoint=*/true).ok());
  ASSERT_THAT(result.breaks, SizeIs(1));
  EXPECT_THAT(result.breaks[0], HasSubstr(Files()[1].filename().string()));
  EXPECT_THAT(result.breaks[0], HasSubstr(Sealed()[0]));
  EXPECT_THAT(result.breaks[0], HasSubstr("last verified record, seq 8"));
  EXPECT_EQ(result.last_seq, 10u);
}

TEST_F(AuditDamageTest, DamagedOldestHeaderSealsTheLogAndStartsAnew) {
  AuditLog::Options o = Opts();
  AppendRecords(o, 2);
  std::vector<std::string> lines = ReadLines(Files()[0]);
  lines[0][lines[0].find("file_header") + 1] = 'X';
  WriteLines(Files()[0], lines);

  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_THAT((*log)->sealed(), SizeIs(1));
  log->reset();
  VerifyResult result;
  ASSERT_TRUE(Verify(&result).ok());
  ASSERT_THAT(result.breaks, SizeIs(1));
  EXPECT_THAT(result.breaks[0], HasSubstr("nothing verified"));
}

TEST_F(AuditDamageTest, LogCutShortBehindItsCheckpointIsABreak) {
  AuditLog::Options o = Opts();
  o.checkpoint_path = checkpoint_.string();
  AppendRecords(o, 4);  // seq 1..5, checkpoint 5
  std::vector<std::string> lines = ReadLines(Files()[0]);
  lines.resize(3);
  WriteLines(Files()[0], lines);

  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_THAT((*log)->sealed(), SizeIs(1));
  EXPECT_EQ((*log)->sealed()[0].kind, "audit_checkpoint");
  EXPECT_THAT((*log)->sealed()[0].reason,
              HasSubstr("truncated after checkpoint seq 5"));
  log->reset();
  VerifyResult result;
  ASSERT_TRUE(Verify(&result, /*with_checkpoint=*/true).ok());
  ASSERT_THAT(result.breaks, SizeIs(1));
  EXPECT_THAT(result.breaks[0], HasSubstr("seq 3"));
}

TEST_F(AuditDamageTest, DamagedCheckpointAloneIsSealedWithoutABreak) {
  AuditLog::Options o = Opts();
  o.checkpoint_path = checkpoint_.string();
  AppendRecords(o, 2);
  WriteLines(checkpoint_, {"{not a checkpoint"});
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_THAT((*log)->sealed(), SizeIs(1));
  EXPECT_EQ((*log)->sealed()[0].kind, "audit_checkpoint");
  log->reset();
  VerifyResult result;
  ASSERT_TRUE(Verify(&result, /*with_checkpoint=*/true).ok());
  EXPECT_TRUE(result.breaks.empty());
}

TEST_F(AuditDamageTest, AnotherKeyIsRefusedNotSealed) {
  AppendRecords(Opts(), 2);
  AuditLog::Options o = Opts();
  o.key = "another key, thirty-two bytes or more";
  const absl::Status s = AuditLog::Open(o).status();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("wrong --audit_key_file?"));
  EXPECT_TRUE(Sealed().empty());
}

#ifdef CANDOR_CLI_PATH
// `candor audit verify` as a user runs it after the server sealed damage
// aside: one "break:" line naming where, why and what was sealed, the
// summary, and a non-zero exit.
TEST_F(AuditDamageTest, CliVerifyNamesTheBreak) {
  const std::string key_file = (root_ / "audit.key").string();
  std::ofstream(key_file) << key_ << "\n";
  AuditLog::Options o = Opts();
  AppendRecords(o, 3);  // seq 1..4
  std::vector<std::string> lines = ReadLines(Files()[0]);
  lines[3][lines[3].find("case-") + 5] = 'X';
  WriteLines(Files()[0], lines);
  { ASSERT_TRUE(AuditLog::Open(o).ok()); }

  test_util::CommandResult r = test_util::RunCommand(
      {CANDOR_CLI_PATH, "audit", "verify", dir_.string(), "--key", key_file},
      root_.string());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("break: chain break recorded at " +
                               Files()[0].filename().string() +
                               " line 1 (seq 4): "));
  EXPECT_THAT(r.out, HasSubstr("line 4: "));
  EXPECT_THAT(r.out, HasSubstr(".damaged-"));
  EXPECT_THAT(r.out, HasSubstr("the last verified record, seq 3"));
  EXPECT_THAT(r.out, HasSubstr("chain intact around 1 recorded break(s)"));
  EXPECT_THAT(r.err, HasSubstr("1 recorded break(s) in the chain"));
}
#endif

}  // namespace
}  // namespace candor::telemetry
