#include "server/security/credentials.h"

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace candor::security {
namespace {

TEST(IsLoopbackAddress, OnlyLoopbackHosts) {
  for (const char* yes : {"127.0.0.1:50051", "127.3.2.1:1", "localhost:5",
                          "[::1]:50051"}) {
    EXPECT_TRUE(IsLoopbackAddress(yes)) << yes;
  }
  for (const char* no : {"0.0.0.0:50051", "[::]:50051", "10.0.0.1:1",
                         "candor:50051", "128.0.0.1:1", "127.0.0.1.example:1"}) {
    EXPECT_FALSE(IsLoopbackAddress(no)) << no;
  }
}

class TlsFilesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(::testing::TempDir() + "/credentials_test_certs." +
                           std::to_string(getpid()));
    const std::string command =
        absl::StrCat("bash ", CANDOR_MAKE_TEST_CERTS, " ", *dir_);
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  static std::string File(const std::string& name) { return *dir_ + "/" + name; }
  static std::string* dir_;
};
std::string* TlsFilesTest::dir_ = nullptr;

TEST_F(TlsFilesTest, PlaintextOnlyOnLoopbackUnlessAllowed) {
  SecurityOptions options;
  EXPECT_TRUE(MakeServerCredentials(options, "127.0.0.1:0").ok());
  auto refused = MakeServerCredentials(options, "0.0.0.0:50051");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("--allow_insecure"),
            std::string::npos);
  options.allow_insecure = true;
  EXPECT_TRUE(MakeServerCredentials(options, "0.0.0.0:50051").ok());
}

TEST_F(TlsFilesTest, TlsOnAnyAddressWithMatchingFiles) {
  SecurityOptions options;
  options.tls_cert = File("server.pem");
  options.tls_key = File("server-key.pem");
  options.tls_client_ca = File("ca.pem");
  EXPECT_TRUE(MakeServerCredentials(options, "0.0.0.0:50051").ok());
}

TEST_F(TlsFilesTest, MismatchedOrMissingFilesFailNamingTheFlag) {
  SecurityOptions options;
  options.tls_cert = File("server.pem");
  options.tls_key = File("server2-key.pem");
  auto mismatch = CheckTlsFiles(options);
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.message().find("--tls_key"), std::string::npos);
  options.tls_key = File("server-key.pem");
  options.tls_client_ca = File("no-such-ca.pem");
  EXPECT_NE(CheckTlsFiles(options).message().find("--tls_client_ca"),
            std::string::npos);
  SecurityOptions half;
  half.tls_cert = File("server.pem");
  EXPECT_FALSE(CheckTlsFiles(half).ok());
  SecurityOptions ca_without_tls;
  ca_without_tls.tls_client_ca = File("ca.pem");
  EXPECT_FALSE(CheckTlsFiles(ca_without_tls).ok());
}

TEST_F(TlsFilesTest, RouterNeedsItsOwnCertificateForShardMtls) {
  SecurityOptions options;
  EXPECT_TRUE(MakeShardChannelCredentials(options, "").ok());
  EXPECT_FALSE(MakeShardChannelCredentials(options, File("ca.pem")).ok());
  options.tls_cert = File("router.pem");
  options.tls_key = File("router-key.pem");
  EXPECT_TRUE(MakeShardChannelCredentials(options, File("ca.pem")).ok());
  EXPECT_FALSE(MakeShardChannelCredentials(options, "").ok());
}

}  // namespace
}  // namespace candor::security
