// The candor CLI against a real candor-server that serves TLS and asks for
// client certificates: a client certificate or a bearer token is who the
// caller is, the options come from flags or CANDOR_* variables, and the
// server's refusals are printed with what to do about them.
//
// Certificates are made at test time by tests/lib/make_test_certs.sh.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "clients/cpp/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/clients/server_fixture.h"
#include "tests/clients/subprocess.h"

namespace candor {
namespace {

using test_util::CommandResult;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kSpiffe[] = "spiffe://candor.test/ns/candor/sa/";
// Test-only secrets: the server holds only their sha256.
constexpr char kAdminToken[] = "candor-test-admin-token-5f1c";
constexpr char kWrongToken[] = "candor-test-wrong-token-0000";

class CliTlsServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ =
        absl::StrCat(::testing::TempDir(), "/candor_cli_tls_", ::getpid());
    std::filesystem::remove_all(scratch_);
    std::filesystem::create_directories(scratch_ + "/data");
    setup_error_ = Prepare();
  }

  static void TearDownTestSuite() {
    if (pid_ > 0) {
      EXPECT_EQ(test_util::StopProcess(pid_), 0)
          << "candor-server did not shut down cleanly:\n"
          << ServerLog();
      pid_ = -1;
    }
    std::filesystem::remove_all(scratch_);
  }

  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  // Certificates, token file, policy, server; "" or what went wrong.
  static std::string Prepare() {
    CommandResult certs = test_util::RunCommand(
        {"/bin/bash", CANDOR_SOURCE_DIR "/tests/lib/make_test_certs.sh",
         Cert("")},
        scratch_);
    if (certs.exit_code != 0) return "make_test_certs.sh failed: " + certs.err;

    WriteFile("admin.token", std::string(kAdminToken) + "\n");
    WriteFile("wrong.token", kWrongToken);
    WriteFile("admin.token.bare", kAdminToken);
    CommandResult digest = test_util::RunCommand(
        {"/usr/bin/sha256sum", Path("admin.token.bare")}, scratch_);
    if (digest.exit_code != 0) return "sha256sum failed: " + digest.err;
    const std::string hash =
        std::vector<std::string>(absl::StrSplit(digest.out, ' '))[0];
    WriteFile("tokens", absl::StrCat(hash, " ", kSpiffe, "admin\n"));

    // admin may do everything; searcher only search and look.
    nlohmann::json policy = {
        {"name", "candor-cli-tls-test"},
        {"allow_rules",
         {{{"name", "admin"},
           {"source", {{"principals", {std::string(kSpiffe) + "admin"}}}}},
          {{"name", "searcher"},
           {"source", {{"principals", {std::string(kSpiffe) + "searcher"}}}},
           {"request",
            {{"paths",
              {"/candor.v1.Candor/Search", "/candor.v1.Candor/GetGallery",
               "/candor.v1.Candor/ListGalleries"}}}}}}}};
    WriteFile("authz.json", policy.dump(2));

    absl::StatusOr<test_util::StartedServer> server = test_util::StartServer(
        {"--data_dir=" + scratch_ + "/data", "--tls_cert=" + Cert("server.pem"),
         "--tls_key=" + Cert("server-key.pem"),
         "--tls_client_ca=" + Cert("ca.pem"), "--token_file=" + Path("tokens"),
         "--authz_policy=" + Path("authz.json")},
        Path("server.log"));
    if (!server.ok()) return std::string(server.status().message());
    pid_ = server->pid;
    address_ = server->address;

    ConnectionOptions admin;
    admin.address = address_;
    admin.tls_ca = Cert("ca.pem");
    admin.tls_cert = Cert("admin.pem");
    admin.tls_key = Cert("admin-key.pem");
    absl::StatusOr<std::unique_ptr<Client>> client =
        Client::Connect(admin, absl::Seconds(5));
    if (!client.ok()) return client.status().ToString();
    const absl::Status serving = test_util::WaitUntilServing(**client);
    if (!serving.ok()) {
      return "server does not answer: " + serving.ToString() + "\n" +
             ServerLog();
    }
    return "";
  }

  static std::string Path(const std::string& name) {
    return scratch_ + "/" + name;
  }
  static std::string Cert(const std::string& name) {
    return scratch_ + "/certs/" + name;
  }
  static void WriteFile(const std::string& name, const std::string& text) {
    std::ofstream(Path(name), std::ios::binary) << text;
  }
  static std::string ServerLog() {
    return test_util::ReadWholeFile(Path("server.log"));
  }

  // `candor ARGS...` with `env` (NAME=VALUE) added to its environment.
  static CommandResult Candor(std::vector<std::string> args,
                              const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), CANDOR_CLI_PATH);
    args.insert(args.begin(), env.begin(), env.end());
    args.insert(args.begin(), "/usr/bin/env");
    return test_util::RunCommand(args, scratch_);
  }
  // The flags of a caller holding NAME.pem.
  static std::vector<std::string> As(const std::string& name) {
    return {"--server",   address_,
            "--tls-ca",   Cert("ca.pem"),
            "--tls-cert", Cert(name + ".pem"),
            "--tls-key",  Cert(name + "-key.pem")};
  }
  static std::vector<std::string> Join(std::vector<std::string> a,
                                       const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  static pid_t pid_;
  static std::string address_;
  static std::string scratch_;
  static std::string setup_error_;
};

pid_t CliTlsServerTest::pid_ = -1;
std::string CliTlsServerTest::address_;
std::string CliTlsServerTest::scratch_;
std::string CliTlsServerTest::setup_error_;

TEST_F(CliTlsServerTest, AdminCertificateCreatesEnrollsAndSearches) {
  const std::string dir = Path("synth");
  CommandResult synth =
      Candor({"synth", "--out", dir, "--subjects", "20", "--per-subject", "2",
              "--dim", "16", "--groups", "A,B", "--seed", "5"});
  ASSERT_EQ(synth.exit_code, 0) << synth.err;

  CommandResult create = Candor(
      Join(As("admin"), {"gallery", "create", "tls-admin", "--dim", "16"}));
  ASSERT_EQ(create.exit_code, 0) << create.err << ServerLog();
  EXPECT_EQ(nlohmann::json::parse(create.out)["name"], "tls-admin");

  CommandResult enroll = Candor(Join(
      As("admin"), {"enroll", "tls-admin", "--vectors", dir + "/gallery.npy",
                    "--meta", dir + "/gallery.csv"}));
  ASSERT_EQ(enroll.exit_code, 0) << enroll.err;
  const std::vector<uint64_t> ids =
      nlohmann::json::parse(enroll.out).get<std::vector<uint64_t>>();
  ASSERT_EQ(ids.size(), 40u);

  // Each enrolled vector, searched for, finds its own entry first.
  CommandResult search = Candor(Join(
      As("admin"),
      {"search", "tls-admin", "--probes", dir + "/gallery.npy", "--threshold",
       "0.5", "--top-k", "1", "--no-report", "--purpose", "tls test"}));
  ASSERT_EQ(search.exit_code, 0) << search.err;
  std::vector<std::string> lines =
      absl::StrSplit(search.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), ids.size());
  for (size_t p = 0; p < ids.size(); ++p) {
    const nlohmann::json line = nlohmann::json::parse(lines[p]);
    ASSERT_EQ(line["candidates"].size(), 1u) << lines[p];
    EXPECT_EQ(line["candidates"][0]["entry_id"].get<uint64_t>(), ids[p]);
  }
}

TEST_F(CliTlsServerTest, OptionsComeFromTheEnvironmentAndFlagsWin) {
  const std::vector<std::string> env = {
      "CANDOR_SERVER=" + address_, "CANDOR_TLS_CA=" + Cert("ca.pem"),
      "CANDOR_TLS_CERT=" + Cert("admin.pem"),
      "CANDOR_TLS_KEY=" + Cert("admin-key.pem")};
  CommandResult list = Candor({"gallery", "list"}, env);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(nlohmann::json::parse(list.out).is_array());

  // Flags over variables that point nowhere.
  const std::vector<std::string> wrong = {
      "CANDOR_SERVER=127.0.0.1:1", "CANDOR_TLS_CA=" + Path("missing-ca.pem"),
      "CANDOR_TLS_CERT=" + Path("missing.pem"),
      "CANDOR_TLS_KEY=" + Path("missing-key.pem")};
  CommandResult flags = Candor(Join(As("admin"), {"gallery", "list"}), wrong);
  EXPECT_EQ(flags.exit_code, 0) << flags.err;

  // Without the flags the variables are used, and fail as they should.
  CommandResult missing = Candor({"gallery", "list"}, wrong);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr(Path("missing-ca.pem")));
}

TEST_F(CliTlsServerTest, NoClientCertificateIsUnauthenticated) {
  CommandResult r = Candor(
      {"--server", address_, "--tls-ca", Cert("ca.pem"), "gallery", "list"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("candor: error: not authenticated: "));
  EXPECT_THAT(r.err, HasSubstr("--tls-cert"));
}

TEST_F(CliTlsServerTest, ForeignCertificateIsRefused) {
  // Signed by a CA the server does not trust: no identity.
  CommandResult r = Candor(Join(As("foreign"), {"gallery", "list"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err,
              ::testing::AnyOf(HasSubstr("candor: error: not "
                                         "authenticated: "),
                               HasSubstr("candor: error: UNAVAILABLE: ")));
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTlsServerTest, ServerCertificateIsVerified) {
  // A CA that did not sign the server's certificate: the handshake fails.
  CommandResult r =
      Candor({"--server", address_, "--tls-ca", Cert("other-ca.pem"),
              "--tls-cert", Cert("admin.pem"), "--tls-key",
              Cert("admin-key.pem"), "gallery", "list"});
  EXPECT_EQ(r.exit_code, 1);
  // gRPC may log the failed handshake on a line of its own first.
  EXPECT_THAT(r.err, HasSubstr("candor: error: UNAVAILABLE: "));
  EXPECT_THAT(r.err, HasSubstr("certificate verify failed"));
  EXPECT_THAT(r.err, HasSubstr("the TLS handshake failed: check that "
                               "--tls-ca signed the server's certificate"));
}

TEST_F(CliTlsServerTest, PlaintextClientGetsNoAnswer) {
  CommandResult r =
      Candor({"--server", address_, "--timeout-s", "5", "gallery", "list"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("candor: error: UNAVAILABLE: "));
}

TEST_F(CliTlsServerTest, TokenIsAnIdentity) {
  CommandResult ok = Candor({"--server", address_, "--tls-ca", Cert("ca.pem"),
                             "--token-file", Path("admin.token"), "gallery",
                             "create", "tls-token", "--dim", "8"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err << ServerLog();
  EXPECT_EQ(nlohmann::json::parse(ok.out)["name"], "tls-token");

  CommandResult env =
      Candor({"gallery", "info", "tls-token"},
             {"CANDOR_SERVER=" + address_, "CANDOR_TLS_CA=" + Cert("ca.pem"),
              "CANDOR_TOKEN_FILE=" + Path("admin.token")});
  ASSERT_EQ(env.exit_code, 0) << env.err;
  EXPECT_EQ(nlohmann::json::parse(env.out)["dimension"], 8);

  CommandResult wrong =
      Candor({"--server", address_, "--tls-ca", Cert("ca.pem"), "--token-file",
              Path("wrong.token"), "gallery", "list"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.err, StartsWith("candor: error: not authenticated: "));
}

TEST_F(CliTlsServerTest, DeniedCallIsPrintedWithWhatToDo) {
  CommandResult create = Candor(
      Join(As("admin"), {"gallery", "create", "tls-denied", "--dim", "8"}));
  ASSERT_EQ(create.exit_code, 0) << create.err;

  // The searcher may look at the gallery but not delete it.
  CommandResult info =
      Candor(Join(As("searcher"), {"gallery", "info", "tls-denied"}));
  EXPECT_EQ(info.exit_code, 0) << info.err;
  CommandResult denied =
      Candor(Join(As("searcher"), {"gallery", "delete", "tls-denied"}));
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_THAT(denied.err, StartsWith("candor: error: permission denied: "));
  EXPECT_THAT(denied.err, HasSubstr("ask an admin"));

  CommandResult still =
      Candor(Join(As("admin"), {"gallery", "info", "tls-denied"}));
  EXPECT_EQ(still.exit_code, 0) << still.err;
}

}  // namespace
}  // namespace candor
