#include "server/security/call_gate.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace candor::security {
namespace {

constexpr char kRouter[] = "spiffe://t/sa/router";
constexpr char kSearcher[] = "spiffe://t/sa/searcher";
constexpr char kAuditor[] = "spiffe://t/sa/auditor";

class CallGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = ::testing::TempDir() + "/call_gate_test." +
                            std::to_string(getpid());
    std::filesystem::create_directories(dir);
    options_.tls_cert = "unused-here.pem";  // tls() only
    options_.tls_key = "unused-here-key.pem";
    options_.tls_client_ca = "unused-ca.pem";
    options_.token_file = dir + "/gate_tokens.txt";
    std::ofstream(options_.token_file, std::ios::trunc)
        << Sha256HexOf("tok-searcher") << " " << kSearcher << "\n";
    options_.authz_policy = dir + "/gate_policy.json";
    std::ofstream(options_.authz_policy, std::ios::trunc) << R"({
      "name": "roles", "allow_rules": [
        {"name": "searcher", "source": {"principals": ["spiffe://t/sa/searcher"]},
         "request": {"paths": ["/candor.v1.Candor/Search"]}},
        {"name": "auditor", "source": {"principals": ["spiffe://t/sa/auditor"]},
         "request": {"paths": ["/candor.v1.Candor/Calibrate"]}},
        {"name": "router", "source": {"principals": ["spiffe://t/sa/router"]}}]})";
    options_.trusted_forwarders = {kRouter};
    auto gate = CallGate::Create(options_);
    ASSERT_TRUE(gate.ok()) << gate.status();
    gate_ = *std::move(gate);
  }

  CallGate::Request Call(const std::string& cert, const std::string& method) {
    CallGate::Request r;
    r.certificate_identity = cert;
    r.peer = "ipv4:127.0.0.1:5000";
    r.secure_transport = true;
    r.method = method;
    return r;
  }

  SecurityOptions options_;
  std::unique_ptr<CallGate> gate_;
};

TEST_F(CallGateTest, CertificateIdentityIsAuthorizedPerMethod) {
  Caller caller;
  EXPECT_TRUE(gate_->Decide(Call(kSearcher, "Search"), &caller).ok());
  EXPECT_EQ(caller.identity, kSearcher);
  EXPECT_EQ(caller.authenticated_by, "certificate");
  absl::Status denied = gate_->Decide(Call(kSearcher, "Enroll"), &caller);
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(denied.message().find("may not call Enroll"), std::string::npos);
  // The identity is known for the audit record even on a refusal.
  EXPECT_EQ(caller.identity, kSearcher);
}

TEST_F(CallGateTest, NoCredentialIsUnauthenticated) {
  Caller caller;
  absl::Status s = gate_->Decide(Call("", "Search"), &caller);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(caller.peer, "ipv4:127.0.0.1:5000");
}

TEST_F(CallGateTest, BearerTokensOnlyOverTlsAndOnlyValidOnes) {
  Caller caller;
  auto request = Call("", "Search");
  request.authorization = "Bearer tok-searcher";
  ASSERT_TRUE(gate_->Decide(request, &caller).ok());
  EXPECT_EQ(caller.identity, kSearcher);
  EXPECT_EQ(caller.authenticated_by, "token");
  request.authorization = "Bearer tok-wrong";
  EXPECT_EQ(gate_->Decide(request, &caller).code(),
            absl::StatusCode::kUnauthenticated);
  request.authorization = "Basic dXNlcjpwdw==";
  EXPECT_EQ(gate_->Decide(request, &caller).code(),
            absl::StatusCode::kUnauthenticated);
  request.authorization = "Bearer tok-searcher";
  request.secure_transport = false;
  absl::Status plaintext = gate_->Decide(request, &caller);
  EXPECT_EQ(plaintext.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(plaintext.message().find("only over TLS"), std::string::npos);
}

TEST_F(CallGateTest, OnlyTrustedForwardersMayNameAnotherCaller) {
  Caller caller;
  auto forwarded = Call(kRouter, "Search");
  forwarded.forwarded_identity = kSearcher;
  forwarded.forwarded_peer = "ipv4:10.0.0.7:4000";
  ASSERT_TRUE(gate_->Decide(forwarded, &caller).ok());
  EXPECT_EQ(caller.identity, kSearcher);
  EXPECT_EQ(caller.forwarded_by, kRouter);
  EXPECT_EQ(caller.peer, "ipv4:10.0.0.7:4000 via ipv4:127.0.0.1:5000");

  // The forwarded caller's rights apply, not the router's.
  forwarded.method = "DeleteGallery";
  EXPECT_EQ(gate_->Decide(forwarded, &caller).code(),
            absl::StatusCode::kPermissionDenied);

  // A searcher cannot pose as a forwarder to borrow an auditor's rights.
  auto spoofed = Call(kSearcher, "Calibrate");
  spoofed.forwarded_identity = kAuditor;
  absl::Status s = gate_->Decide(spoofed, &caller);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("not a trusted forwarder"), std::string::npos);
}

TEST_F(CallGateTest, ForwardedMethodIsWhatTheCallerInvokedAtTheRouter) {
  // The router carries out an auditor's Calibrate as Searches on shards.
  Caller caller;
  auto request = Call(kRouter, "Search");
  request.forwarded_identity = kAuditor;
  EXPECT_EQ(gate_->Decide(request, &caller).code(),
            absl::StatusCode::kPermissionDenied);
  request.forwarded_method = "Calibrate";
  EXPECT_TRUE(gate_->Decide(request, &caller).ok());
}

TEST_F(CallGateTest, AnAnonymousForwardedCallIsNeverTheForwardersOwn) {
  // The router's caller had no identity: the shard must not authorize the
  // call as the router (which may call everything).
  Caller caller;
  auto request = Call(kRouter, "DeleteGallery");
  request.forwarded_method = "DeleteGallery";
  request.forwarded_peer = "ipv4:10.0.0.9:1";
  absl::Status s = gate_->Decide(request, &caller);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << s;
  EXPECT_EQ(caller.identity, "");
  EXPECT_EQ(caller.forwarded_by, kRouter);
}

TEST(CallGatePlaintext, LoopbackWithoutTlsAdmitsEveryoneWithoutIdentity) {
  auto gate = CallGate::Create(SecurityOptions());
  ASSERT_TRUE(gate.ok());
  Caller caller;
  CallGate::Request request;
  request.peer = "ipv4:127.0.0.1:1";
  request.method = "DeleteGallery";
  EXPECT_TRUE((*gate)->Decide(request, &caller).ok());
  EXPECT_EQ(caller.identity, "");
  EXPECT_EQ(caller.authenticated_by, "none");
}

}  // namespace
}  // namespace candor::security
