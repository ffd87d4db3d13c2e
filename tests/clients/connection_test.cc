// What ConnectionOptions refuse before any connection is tried, and that
// what they accept gives a client.
#include "clients/cpp/connection.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "clients/cpp/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace candor {
namespace {

using ::testing::HasSubstr;

// A PEM-shaped file: enough for the checks made before gRPC reads it.
constexpr char kPem[] =
    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/connection_test_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Write("ca.pem", kPem);
    Write("cert.pem", kPem);
    Write("key.pem", kPem);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << text;
    return dir_ + "/" + name;
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  ConnectionOptions Options() const {
    ConnectionOptions options;
    options.address = "127.0.0.1:1";
    return options;
  }

  std::string dir_;
};

TEST_F(ConnectionTest, PlaintextAndTlsAreAccepted) {
  EXPECT_FALSE(UsesTls(Options()));
  EXPECT_TRUE(Client::Connect(Options()).ok());

  ConnectionOptions system_roots = Options();
  system_roots.tls = true;
  EXPECT_TRUE(UsesTls(system_roots));
  EXPECT_TRUE(Client::Connect(system_roots).ok());

  ConnectionOptions mutual = Options();
  mutual.tls_ca = Path("ca.pem");
  mutual.tls_cert = Path("cert.pem");
  mutual.tls_key = Path("key.pem");
  mutual.token = "abc.DEF-123_~+/=";
  EXPECT_TRUE(UsesTls(mutual));
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(mutual);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_NE(*client, nullptr);
}

TEST_F(ConnectionTest, CertificateAndKeyGoTogether) {
  ConnectionOptions cert_only = Options();
  cert_only.tls_cert = Path("cert.pem");
  EXPECT_EQ(MakeCredentials(cert_only).status().code(),
            absl::StatusCode::kInvalidArgument);
  ConnectionOptions key_only = Options();
  key_only.tls_ca = Path("ca.pem");
  key_only.tls_key = Path("key.pem");
  absl::Status s = MakeCredentials(key_only).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("both or neither"));
}

TEST_F(ConnectionTest, TokenNeedsTls) {
  ConnectionOptions options = Options();
  options.token = "secret";
  absl::Status s = Client::Connect(options).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("only over TLS"));
  options.tls = true;
  EXPECT_TRUE(Client::Connect(options).ok());
}

TEST_F(ConnectionTest, TokenMustBeAHeaderValue) {
  ConnectionOptions options = Options();
  options.tls = true;
  for (const char* bad : {"two words", "line\nbreak", "tab\t", "caf\xc3\xa9"}) {
    options.token = bad;
    EXPECT_EQ(MakeCredentials(options).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST_F(ConnectionTest, FilesAreNamedWhenUnusable) {
  ConnectionOptions missing = Options();
  missing.tls_ca = Path("nope.pem");
  absl::Status s = MakeCredentials(missing).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(Path("nope.pem")));

  ConnectionOptions not_pem = Options();
  not_pem.tls_ca = Path("ca.pem");
  not_pem.tls_cert = Path("cert.pem");
  not_pem.tls_key = Write("key.txt", "not a key");
  s = MakeCredentials(not_pem).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("key.txt holds no PEM block"));
}

}  // namespace
}  // namespace candor
