// Every RPC x every kind of caller against a real TLS server that requires
// a client identity and runs the shipped roles file (deploy/authz/
// roles.json, its trust domain swapped for the test CA's): the code in
// every cell, nothing changed by any refused call, and an audit record of
// every call that reached the server, under the caller's identity.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/security/token_store.h"
#include "tests/api/test_server.h"
#include "tests/security/tls_test_util.h"

namespace candor::testing {
namespace {

namespace fs = std::filesystem;
using grpc::StatusCode;

constexpr char kGallery[] = "g";
constexpr int kDim = 4;

// The roles as the issue states them; the shipped file must grant exactly
// these (the admin everything).
const std::map<std::string, std::set<std::string>>& Grants() {
  static const auto* grants = new std::map<std::string, std::set<std::string>>{
      {"searcher", {"Search", "SearchStream", "GetGallery", "ListGalleries"}},
      {"enroller", {"Enroll", "Remove", "GetGallery"}},
      {"auditor",
       {"GetCalibration", "GetGallery", "ListGalleries", "GetStats", "Calibrate"}},
  };
  return *grants;
}

const std::vector<std::string>& Methods() {
  static const auto* methods = new std::vector<std::string>{
      "CreateGallery", "GetGallery", "ListGalleries", "Enroll",
      "Remove", "Search", "SearchStream", "Calibrate",
      "GetCalibration", "SetPolicy", "TrainIndex", "GetStats",
      "CompactGallery", "DeleteGallery"};
  return *methods;
}

// One valid request of `method` by `who` (names keep rows apart).
grpc::Status CallOnce(v1::Candor::Stub* stub, const std::string& method,
                      const std::string& who) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const std::string scratch = "t-" + who;
  if (method == "CreateGallery") {
    v1::CreateGalleryRequest req;
    req.set_name(scratch);
    req.set_dimension(kDim);
    v1::Gallery resp;
    return stub->CreateGallery(&ctx, req, &resp);
  }
  if (method == "GetGallery") {
    v1::GetGalleryRequest req;
    req.set_name(kGallery);
    v1::Gallery resp;
    return stub->GetGallery(&ctx, req, &resp);
  }
  if (method == "ListGalleries") {
    v1::ListGalleriesResponse resp;
    return stub->ListGalleries(&ctx, v1::ListGalleriesRequest(), &resp);
  }
  if (method == "DeleteGallery") {
    v1::DeleteGalleryRequest req;
    req.set_name(scratch);
    v1::DeleteGalleryResponse resp;
    return stub->DeleteGallery(&ctx, req, &resp);
  }
  if (method == "CompactGallery") {
    v1::CompactGalleryRequest req;
    req.set_name(kGallery);
    v1::CompactGalleryResponse resp;
    return stub->CompactGallery(&ctx, req, &resp);
  }
  if (method == "Enroll") {
    v1::EnrollRequest req;
    req.set_gallery(kGallery);
    *req.mutable_vectors() = PackRows(RandomRows(1, kDim, 7), 1, kDim);
    req.add_subject_ids("s-" + who);
    v1::EnrollResponse resp;
    return stub->Enroll(&ctx, req, &resp);
  }
  if (method == "Remove") {
    v1::RemoveRequest req;
    req.set_gallery(kGallery);
    req.set_subject_id("s-" + who);
    v1::RemoveResponse resp;
    return stub->Remove(&ctx, req, &resp);
  }
  v1::SearchRequest search;
  search.set_gallery(kGallery);
  *search.mutable_probes() = PackRows(RandomRows(1, kDim, 9), 1, kDim);
  search.set_top_k(3);
  search.set_threshold(0.5f);
  search.set_purpose("access table test");
  if (method == "Search") {
    v1::SearchResponse resp;
    return stub->Search(&ctx, search, &resp);
  }
  if (method == "SearchStream") {
    auto stream = stub->SearchStream(&ctx);
    stream->Write(search);
    stream->WritesDone();
    v1::SearchResponse resp;
    while (stream->Read(&resp)) {
    }
    return stream->Finish();
  }
  if (method == "Calibrate") {
    v1::CalibrateRequest req;
    req.set_gallery(kGallery);
    req.mutable_self_audit()->set_sample_size(4);
    v1::CalibrationReport resp;
    return stub->Calibrate(&ctx, req, &resp);
  }
  if (method == "GetCalibration") {
    v1::GetCalibrationRequest req;
    req.set_gallery(kGallery);
    v1::CalibrationReport resp;
    return stub->GetCalibration(&ctx, req, &resp);
  }
  if (method == "SetPolicy") {
    v1::SetPolicyRequest req;
    req.set_gallery(kGallery);
    req.mutable_policy()->set_min_threshold(0.25f);
    v1::Gallery resp;
    return stub->SetPolicy(&ctx, req, &resp);
  }
  if (method == "TrainIndex") {
    v1::TrainIndexRequest req;
    req.set_gallery(kGallery);
    v1::Gallery resp;
    return stub->TrainIndex(&ctx, req, &resp);
  }
  v1::Stats resp;
  return stub->GetStats(&ctx, v1::GetStatsRequest(), &resp);
}

// What a refused call must not have changed: every file under galleries/
// (entries, write-ahead logs, snapshots, manifests with their policies) and
// calibrations/. Read from disk, so the check itself is no call to audit.
std::string Fingerprint(const std::string& data_dir) {
  std::ostringstream out;
  for (const char* sub : {"galleries", "calibrations"}) {
    if (!fs::exists(fs::path(data_dir) / sub)) continue;
    std::vector<std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(fs::path(data_dir) / sub)) {
      if (e.is_regular_file()) files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      out << f << " " << std::hash<std::string>()(ReadFile(f)) << "\n";
    }
  }
  return out.str();
}

struct Row {
  std::string label;   // as printed
  std::string client;  // certificate file stem; "" = none
  std::string identity;
  bool reaches_server;  // false: the TLS handshake refuses the certificate
};

class AccessTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_dir_ = MakeTempDir("candor-access-certs");
    MakeTestCerts(cert_dir_);
    const std::string policy =
        absl::StrReplaceAll(ReadFile(CANDOR_ROLES_JSON),
                            {{"spiffe://cluster.local/", "spiffe://candor.test/"}});
    policy_path_ = cert_dir_ + "/roles.json";
    std::ofstream(policy_path_) << policy;
    api::ServerOptions options = TestServer::DefaultOptions();
    options.security.tls_cert = cert_dir_ + "/server.pem";
    options.security.tls_key = cert_dir_ + "/server-key.pem";
    options.security.tls_client_ca = cert_dir_ + "/ca.pem";
    options.security.authz_policy = policy_path_;
    server_ = std::make_unique<TestServer>(options);
  }
  void TearDown() override {
    server_.reset();
    RemoveTree(cert_dir_);
  }

  std::unique_ptr<v1::Candor::Stub> Stub(const std::string& client) {
    return v1::Candor::NewStub(TlsChannel(server_->address(), cert_dir_, client));
  }

  std::string cert_dir_;
  std::string policy_path_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(AccessTableTest, EveryRpcForEveryCallerHasItsCodeAndItsAuditRecord) {
  auto admin = Stub("admin");
  {  // The gallery every row works on, with two subjects of two entries.
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest req;
    req.set_name(kGallery);
    req.set_dimension(kDim);
    v1::Gallery g;
    ASSERT_TRUE(admin->CreateGallery(&ctx, req, &g).ok());
    grpc::ClientContext ctx2;
    v1::EnrollRequest enroll;
    enroll.set_gallery(kGallery);
    *enroll.mutable_vectors() = PackRows(RandomRows(4, kDim, 3), 4, kDim);
    for (const char* s : {"a", "a", "b", "b"}) enroll.add_subject_ids(s);
    v1::EnrollResponse resp;
    ASSERT_TRUE(admin->Enroll(&ctx2, enroll, &resp).ok());
  }
  const std::vector<Row> rows = {
      {"no certificate", "", "", true},
      {"other CA", "foreign", "", false},
      {"expired", "expired", "", false},
      {"searcher", "searcher", TestIdentity("searcher"), true},
      {"enroller", "enroller", TestIdentity("enroller"), true},
      {"auditor", "auditor", TestIdentity("auditor"), true},
      {"admin", "admin", TestIdentity("admin"), true},
  };
  // (method, identity, code) of every call that must be in the audit log:
  // the two setup calls, then every cell that reached the server.
  std::multiset<std::tuple<std::string, std::string, std::string>> expected = {
      {"CreateGallery", TestIdentity("admin"), "OK"},
      {"Enroll", TestIdentity("admin"), "OK"}};
  std::ostringstream table;
  table << std::left << std::setw(16) << "RPC";
  for (const Row& row : rows) table << std::setw(18) << row.label;
  table << "\n";
  std::map<std::string, std::map<std::string, std::string>> cells;
  for (const Row& row : rows) {
    auto stub = Stub(row.client);
    for (const std::string& method : Methods()) {
      const bool admin_row = row.client == "admin";
      const bool granted =
          admin_row || (Grants().count(row.client) &&
                        Grants().at(row.client).count(method));
      const std::string before =
          granted ? "" : Fingerprint(server_->data_dir());
      const grpc::Status status = CallOnce(stub.get(), method, row.client);
      const StatusCode code = status.error_code();
      cells[method][row.label] = absl::StatusCodeToString(
          static_cast<absl::StatusCode>(code));
      SCOPED_TRACE(absl::StrCat(row.label, " calls ", method, ": ",
                                status.error_message()));
      if (!row.reaches_server) {
        EXPECT_EQ(code, StatusCode::UNAVAILABLE);
      } else if (row.client.empty()) {
        EXPECT_EQ(code, StatusCode::UNAUTHENTICATED);
      } else if (!granted) {
        EXPECT_EQ(code, StatusCode::PERMISSION_DENIED);
      } else {
        EXPECT_NE(code, StatusCode::PERMISSION_DENIED);
        EXPECT_NE(code, StatusCode::UNAUTHENTICATED);
        EXPECT_NE(code, StatusCode::UNAVAILABLE);
      }
      if (!granted) {
        EXPECT_EQ(Fingerprint(server_->data_dir()), before)
            << "a refused call changed the server";
      }
      if (row.reaches_server) {
        expected.insert({method, row.identity, cells[method][row.label]});
      }
    }
  }
  for (const std::string& method : Methods()) {
    table << std::setw(16) << method;
    for (const Row& row : rows) table << std::setw(18) << cells[method][row.label];
    table << "\n";
  }
  std::cout << "role x RPC (gRPC status code of each call):\n" << table.str();

  // Every call that reached the server is in the audit log, under its
  // caller's identity, with its code. Records are durable before answers.
  std::multiset<std::tuple<std::string, std::string, std::string>> audited;
  for (const auto& record : ReadAuditRecords(server_->data_dir())) {
    if (record.value("operation", "") == "file_header") continue;
    audited.insert({record.value("operation", ""), record.value("identity", ""),
                    record.value("status_code", "")});
  }
  for (const auto& call : expected) {
    const auto& [method, identity, code] = call;
    EXPECT_EQ(audited.count(call), expected.count(call))
        << method << " by '" << identity << "' (" << code << ") is not audited";
  }
  // Nothing else: no record of a call whose certificate the handshake
  // refused (there was no call).
  EXPECT_EQ(audited.size(), expected.size());
}

TEST_F(AccessTableTest, HealthIsOpenWithoutACertificate) {
  auto channel = TlsChannel(server_->address(), cert_dir_, "");
  std::string response;
  grpc::Status status =
      GenericUnary(channel.get(), "/grpc.health.v1.Health/Check", "", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // HealthCheckResponse{status: SERVING} is field 1 = 1.
  EXPECT_EQ(response, std::string("\x08\x01", 2));
}

TEST_F(AccessTableTest, ABearerTokenOverTlsActsAsItsIdentity) {
  server_.reset();
  const std::string tokens = cert_dir_ + "/tokens.txt";
  std::ofstream(tokens) << security::Sha256HexOf("batch-token") << " "
                        << TestIdentity("searcher") << "\n";
  api::ServerOptions options = TestServer::DefaultOptions();
  options.security.tls_cert = cert_dir_ + "/server.pem";
  options.security.tls_key = cert_dir_ + "/server-key.pem";
  options.security.tls_client_ca = cert_dir_ + "/ca.pem";
  options.security.authz_policy = policy_path_;
  options.security.token_file = tokens;
  server_ = std::make_unique<TestServer>(options);
  auto stub = Stub("");
  for (const auto& [token, want] :
       std::vector<std::pair<std::string, StatusCode>>{
           {"batch-token", StatusCode::OK},
           {"wrong-token", StatusCode::UNAUTHENTICATED}}) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    v1::ListGalleriesResponse resp;
    EXPECT_EQ(stub->ListGalleries(&ctx, v1::ListGalleriesRequest(), &resp)
                  .error_code(),
              want)
        << token;
    grpc::ClientContext ctx2;
    ctx2.AddMetadata("authorization", "Bearer " + token);
    v1::Stats stats;
    // The searcher role may not read the server's stats.
    EXPECT_EQ(stub->GetStats(&ctx2, v1::GetStatsRequest(), &stats).error_code(),
              token == "batch-token" ? StatusCode::PERMISSION_DENIED
                                     : StatusCode::UNAUTHENTICATED);
  }
}

TEST(ReflectionFlag, ReflectionAnswersUnlessTurnedOff) {
  for (bool reflection : {true, false}) {
    api::ServerOptions options = TestServer::DefaultOptions();
    options.security.reflection = reflection;
    TestServer server(options);
    auto channel =
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
    // ServerReflectionRequest{list_services: ""} (field 7).
    const grpc::Status status = GenericUnary(
        channel.get(),
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        std::string("\x3a\x00", 2));
    EXPECT_EQ(status.error_code() == StatusCode::UNIMPLEMENTED, !reflection)
        << "reflection=" << reflection << ": " << status.error_message();
  }
}

}  // namespace
}  // namespace candor::testing
