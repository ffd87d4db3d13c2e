// The candor binary's behaviour that needs no server: usage errors, file
// errors, synth output, and an unreachable server.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "clients/cli/csv.h"
#include "clients/cli/npy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/clients/subprocess.h"

namespace candor {
namespace {

using test_util::CommandResult;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/cli_test_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `candor args...`, or args as given (another program first) when
  // !cli_first.
  CommandResult Candor(std::vector<std::string> args, bool cli_first = true) {
    if (cli_first) args.insert(args.begin(), CANDOR_CLI_PATH);
    return test_util::RunCommand(args, dir_);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  void WriteText(const std::string& name, const std::string& text) {
    std::ofstream(Path(name), std::ios::binary) << text;
  }
  void WriteProbes(const std::string& name, int rows) {
    std::vector<float> values(static_cast<size_t>(rows) * 4, 0.5f);
    ASSERT_TRUE(WriteNpy(Path(name), values, rows, 4).ok());
  }

  std::string dir_;
};

TEST_F(CliTest, NoCommandIsUsageError) {
  CommandResult r = Candor({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith("candor: error: "));
}

TEST_F(CliTest, UnknownOptionAndMissingRequiredAreUsageErrors) {
  WriteProbes("p.npy", 2);
  EXPECT_EQ(Candor({"search", "g", "--probes", Path("p.npy"), "--top-k", "3",
                    "--bogus"})
                .exit_code,
            2);
  EXPECT_EQ(
      Candor({"search", "g", "--probes", Path("p.npy"), "--format", "yaml"})
          .exit_code,
      2);
  CommandResult remove = Candor({"remove", "g"});
  EXPECT_EQ(remove.exit_code, 2);
  EXPECT_THAT(remove.err, HasSubstr("--entry-ids or --subject"));
  EXPECT_EQ(
      Candor({"remove", "g", "--entry-ids", "1,2", "--subject", "s"}).exit_code,
      2);
  EXPECT_EQ(Candor({"gallery", "create", "g", "--dim", "8", "--index", "hnsw"})
                .exit_code,
            2);
}

TEST_F(CliTest, HelpExitsZeroAndDocumentsTheModel) {
  CommandResult r = Candor({"synth", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("homogeneity"));
  EXPECT_THAT(r.out, HasSubstr("--per-subject"));
}

TEST_F(CliTest, MalformedNpyNamesFileAndProblem) {
  WriteText("bad.npy", "definitely not numpy");
  CommandResult r = Candor({"search", "g", "--probes", Path("bad.npy"),
                            "--top-k", "3", "--server", "127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("candor: error: "));
  EXPECT_THAT(r.err, HasSubstr("bad.npy"));
  EXPECT_THAT(r.err, HasSubstr("bad magic"));
}

TEST_F(CliTest, MalformedCsvNamesFileAndLine) {
  WriteProbes("v.npy", 2);
  WriteText("m.csv", "subject_id,group\ns1,A\n\"s2,B\n");
  CommandResult r = Candor({"enroll", "g", "--vectors", Path("v.npy"), "--meta",
                            Path("m.csv"), "--server", "127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("m.csv:3: unterminated quoted field"));
}

TEST_F(CliTest, CsvRowCountMismatch) {
  WriteProbes("v.npy", 3);
  WriteText("m.csv", "subject_id,group\ns1,A\ns2,B\n");
  CommandResult r = Candor({"enroll", "g", "--vectors", Path("v.npy"), "--meta",
                            Path("m.csv"), "--server", "127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("has 2 records but"));
  EXPECT_THAT(r.err, HasSubstr("has 3 vectors"));
}

TEST_F(CliTest, UnreachableServerIsUnavailable) {
  const int port = test_util::PickFreePort();
  ASSERT_GT(port, 0);
  CommandResult r =
      Candor({"stats", "--server", "127.0.0.1:" + std::to_string(port),
              "--timeout-s", "5"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("candor: error: UNAVAILABLE: no candor "
                                "server at 127.0.0.1:" +
                                std::to_string(port) +
                                " (--server or CANDOR_SERVER): "));
}

TEST_F(CliTest, ServerAddressFromTheEnvironment) {
  const int port = test_util::PickFreePort();
  ASSERT_GT(port, 0);
  const std::string address = "127.0.0.1:" + std::to_string(port);
  CommandResult r = Candor({"/usr/bin/env", "CANDOR_SERVER=" + address,
                            CANDOR_CLI_PATH, "stats", "--timeout-s", "5"},
                           /*cli_first=*/false);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no candor server at " + address));
  // A flag wins over the variable.
  CommandResult flag =
      Candor({"/usr/bin/env", "CANDOR_SERVER=" + address, CANDOR_CLI_PATH,
              "stats", "--server", "127.0.0.1:1", "--timeout-s", "5"},
             /*cli_first=*/false);
  EXPECT_THAT(flag.err, HasSubstr("no candor server at 127.0.0.1:1 "));
}

// A misspelt column would otherwise enroll every entry without its group.
TEST_F(CliTest, UnknownMetaColumnIsAnError) {
  WriteProbes("v.npy", 2);
  WriteText("m.csv", "subject_id,grp\ns1,A\ns2,B\n");
  CommandResult r = Candor({"enroll", "g", "--vectors", Path("v.npy"), "--meta",
                            Path("m.csv"), "--server", "127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("candor: error: INVALID_ARGUMENT: "));
  EXPECT_THAT(r.err, HasSubstr("m.csv: unknown column 'grp'; expected "
                               "columns: subject_id, group"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("no candor server")));
}

TEST_F(CliTest, DashReadsVectorsFromStandardInput) {
  WriteText("garbage", "not numpy at all");
  CommandResult r =
      test_util::RunCommand({CANDOR_CLI_PATH, "search", "g", "--probes", "-",
                             "--server", "127.0.0.1:1"},
                            dir_, Path("garbage"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("standard input: not an .npy file"));
  // Both calibration sets cannot come from the one input.
  WriteText("g.csv", "group,ref\nA,s1\n");
  CommandResult both =
      Candor({"calibrate", "g", "--nonmated", "-", "--nonmated-meta",
              Path("g.csv"), "--mated", "-", "--mated-meta", Path("g.csv"),
              "--server", "127.0.0.1:1"});
  EXPECT_THAT(both.err, HasSubstr("cannot both read standard input"));
}

TEST_F(CliTest, SynthWritesDeterministicFiles) {
  const std::vector<std::string> args = {"synth", "--subjects",
                                         "12",    "--per-subject",
                                         "3",     "--dim",
                                         "16",    "--groups",
                                         "X,Y",   "--seed",
                                         "5",     "--mated-probes",
                                         "7",     "--nonmated-subjects",
                                         "9"};
  std::vector<std::string> first = args, second = args;
  first.insert(first.end(), {"--out", Path("a")});
  second.insert(second.end(), {"--out", Path("b")});
  ASSERT_EQ(Candor(first).exit_code, 0);
  ASSERT_EQ(Candor(second).exit_code, 0);
  for (const char* file : {"gallery.npy", "gallery.csv", "mated.npy",
                           "mated.csv", "nonmated.npy", "nonmated.csv"}) {
    EXPECT_EQ(test_util::ReadWholeFile(Path("a/") + file),
              test_util::ReadWholeFile(Path("b/") + file))
        << file;
  }
  absl::StatusOr<FloatMatrix> gallery = ReadNpy(Path("a/gallery.npy"));
  ASSERT_TRUE(gallery.ok()) << gallery.status();
  EXPECT_EQ(gallery->rows, 36);
  EXPECT_EQ(gallery->cols, 16);
  absl::StatusOr<CsvTable> mated = ReadCsv(Path("a/mated.csv"));
  ASSERT_TRUE(mated.ok()) << mated.status();
  EXPECT_THAT(mated->header, ::testing::ElementsAre("group", "ref"));
  EXPECT_EQ(mated->records.size(), 7u);
  absl::StatusOr<CsvTable> nonmated = ReadCsv(Path("a/nonmated.csv"));
  ASSERT_TRUE(nonmated.ok());
  EXPECT_EQ(nonmated->records.size(), 9u);
  absl::StatusOr<CsvTable> enrolled = ReadCsv(Path("a/gallery.csv"));
  ASSERT_TRUE(enrolled.ok());
  EXPECT_THAT(enrolled->header, ::testing::ElementsAre("subject_id", "group"));
}

TEST_F(CliTest, SynthRefusesImpossibleHomogeneity) {
  CommandResult r = Candor({"synth", "--out", Path("x"), "--groups", "A,B,C",
                            "--homogeneity-base", "0.9"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("homogeneity"));
}

TEST_F(CliTest, CertificateAndKeyGoTogether) {
  WriteText("c.pem", "-----BEGIN CERTIFICATE-----\n");
  CommandResult cert_only =
      Candor({"stats", "--server", "127.0.0.1:1", "--tls-cert", Path("c.pem")});
  EXPECT_EQ(cert_only.exit_code, 2);
  EXPECT_THAT(cert_only.err,
              StartsWith("candor: error: --tls-cert needs --tls-key"));
  CommandResult key_only =
      Candor({"stats", "--server", "127.0.0.1:1", "--tls-key", Path("c.pem")});
  EXPECT_EQ(key_only.exit_code, 2);
  EXPECT_THAT(key_only.err,
              StartsWith("candor: error: --tls-key needs --tls-cert"));
  // The same from the environment.
  CommandResult env =
      Candor({"/usr/bin/env", "CANDOR_TLS_CERT=" + Path("c.pem"),
              CANDOR_CLI_PATH, "stats", "--server", "127.0.0.1:1"},
             /*cli_first=*/false);
  EXPECT_EQ(env.exit_code, 2);
  EXPECT_THAT(env.err, HasSubstr("--tls-cert needs --tls-key"));
  // Commands that never connect do not care.
  EXPECT_EQ(Candor({"synth", "--out", Path("s"), "--subjects", "2",
                    "--tls-cert", Path("c.pem")})
                .exit_code,
            0);
}

TEST_F(CliTest, TokenIsNeverSentInPlaintext) {
  WriteText("token", "secret-token\n");
  CommandResult r = Candor(
      {"stats", "--server", "127.0.0.1:1", "--token-file", Path("token")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith("candor: error: --token-file needs TLS"));
}

TEST_F(CliTest, UnreadableTlsFilesAreNamed) {
  WriteText("not-pem.txt", "hello");
  WriteText("empty.token", " \n");
  CommandResult missing = Candor(
      {"stats", "--server", "127.0.0.1:1", "--tls-ca", Path("missing-ca.pem")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("missing-ca.pem"));
  CommandResult not_pem = Candor(
      {"stats", "--server", "127.0.0.1:1", "--tls-ca", Path("not-pem.txt")});
  EXPECT_EQ(not_pem.exit_code, 1);
  EXPECT_THAT(not_pem.err, HasSubstr("not-pem.txt holds no PEM block"));
  CommandResult empty =
      Candor({"stats", "--server", "127.0.0.1:1", "--tls-ca",
              Path("not-pem.txt"), "--token-file", Path("empty.token")});
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_THAT(empty.err, HasSubstr("empty.token is empty"));
}

TEST_F(CliTest, HelpNamesTheEnvironmentVariables) {
  CommandResult r = Candor({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* name : {"CANDOR_SERVER", "CANDOR_TLS_CA", "CANDOR_TLS_CERT",
                           "CANDOR_TLS_KEY", "CANDOR_TOKEN_FILE"}) {
    EXPECT_THAT(r.out, HasSubstr(name));
  }
}

}  // namespace
}  // namespace candor
