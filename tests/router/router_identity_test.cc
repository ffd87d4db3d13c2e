// Identity through the router, as deployed: two TLS shards that trust only
// the router as a forwarder, and a TLS router that calls them over mTLS with
// its own certificate, all running the shipped roles file. A searcher's
// identity must reach the shards' audit logs; a caller that is not a
// trusted forwarder must not be able to name another identity.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/api/test_server.h"
#include "tests/integration/server_process.h"
#include "tests/security/tls_test_util.h"

namespace candor::testing {
namespace {

namespace fs = std::filesystem;
constexpr int kDim = 4;


class RouterIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir("candor-router-identity");
    certs_ = root_ + "/certs";
    MakeTestCerts(certs_);
    policy_ = root_ + "/roles.json";
    std::ofstream(policy_) << absl::StrReplaceAll(
        ReadFile(CANDOR_ROLES_JSON),
        {{"spiffe://cluster.local/", "spiffe://candor.test/"}});
    const std::vector<std::string> tls = {
        "--tls_client_ca=" + certs_ + "/ca.pem", "--authz_policy=" + policy_};
    std::vector<std::string> shard_flags = tls;
    shard_flags.push_back("--tls_cert=" + certs_ + "/server.pem");
    shard_flags.push_back("--tls_key=" + certs_ + "/server-key.pem");
    shard_flags.push_back("--trusted_forwarders=" + TestIdentity("router"));
    std::vector<std::string> shard_addresses;
    for (int i = 0; i < 2; ++i) {
      shards_.push_back(std::make_unique<ServerProcess>(
          ServerBinary(), absl::StrCat(root_, "/shard", i), shard_flags));
      ASSERT_TRUE(shards_.back()->running());
      shard_addresses.push_back(shards_.back()->address());
    }
    std::vector<std::string> router_flags = tls;
    router_flags.push_back("--role=router");
    router_flags.push_back("--shards=" + absl::StrJoin(shard_addresses, ","));
    router_flags.push_back("--tls_cert=" + certs_ + "/router.pem");
    router_flags.push_back("--tls_key=" + certs_ + "/router-key.pem");
    router_flags.push_back("--shard_tls_ca=" + certs_ + "/ca.pem");
    router_ = std::make_unique<ServerProcess>(ServerBinary(), root_ + "/router",
                                              router_flags);
    ASSERT_TRUE(router_->running());
  }
  void TearDown() override {
    router_.reset();
    shards_.clear();
    RemoveTree(root_);
  }
  std::unique_ptr<v1::Candor::Stub> Via(const ServerProcess& process,
                                        const std::string& client) {
    return v1::Candor::NewStub(TlsChannel(process.address(), certs_, client));
  }

  std::string root_, certs_, policy_;
  std::vector<std::unique_ptr<ServerProcess>> shards_;
  std::unique_ptr<ServerProcess> router_;
};

TEST_F(RouterIdentityTest, TheCallersIdentityReachesTheShardsAuditLogs) {
  auto admin = Via(*router_, "admin");
  {
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest req;
    req.set_name("g");
    req.set_dimension(kDim);
    v1::Gallery g;
    grpc::Status s = admin->CreateGallery(&ctx, req, &g);
    ASSERT_TRUE(s.ok()) << s.error_message();
    grpc::ClientContext ctx2;
    v1::EnrollRequest enroll;
    enroll.set_gallery("g");
    *enroll.mutable_vectors() = PackRows(RandomRows(6, kDim, 5), 6, kDim);
    for (const char* s : {"a", "b", "c", "d", "e", "f"}) enroll.add_subject_ids(s);
    v1::EnrollResponse resp;
    s = admin->Enroll(&ctx2, enroll, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  auto searcher = Via(*router_, "searcher");
  grpc::ClientContext ctx;
  v1::SearchRequest search;
  search.set_gallery("g");
  *search.mutable_probes() = PackRows(RandomRows(2, kDim, 6), 2, kDim);
  search.set_top_k(3);
  search.set_threshold(-1.0f);
  search.set_purpose("case 17");
  v1::SearchResponse resp;
  grpc::Status s = searcher->Search(&ctx, search, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(resp.results_size(), 2);

  // A searcher may not delete through the router either.
  grpc::ClientContext del_ctx;
  v1::DeleteGalleryRequest del;
  del.set_name("g");
  v1::DeleteGalleryResponse del_resp;
  EXPECT_EQ(searcher->DeleteGallery(&del_ctx, del, &del_resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  for (int i = 0; i < 2; ++i) {
    bool searched = false, enrolled_or_created = false;
    for (const auto& r : ReadAuditRecords(absl::StrCat(root_, "/shard", i))) {
      const std::string op = r.value("operation", "");
      if (op == "Search") {
        searched = true;
        EXPECT_EQ(r["identity"], TestIdentity("searcher"));
        EXPECT_EQ(r["forwarded_by"], TestIdentity("router"));
        EXPECT_EQ(r["purpose"], "case 17");
        EXPECT_EQ(r["status_code"], "OK");
      }
      if (op == "CreateGallery" || op == "Enroll") {
        enrolled_or_created = true;
        EXPECT_EQ(r["identity"], TestIdentity("admin"));
      }
      EXPECT_NE(op, "DeleteGallery") << "a refused call reached shard " << i;
    }
    EXPECT_TRUE(searched) << "shard " << i;
    EXPECT_TRUE(enrolled_or_created) << "shard " << i;
  }
}

TEST_F(RouterIdentityTest, OnlyATrustedForwarderMayNameTheCaller) {
  // A searcher goes to a shard directly and claims to forward an admin.
  auto searcher = Via(*shards_[0], "searcher");
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-candor-forwarded-identity", TestIdentity("admin"));
  v1::CreateGalleryRequest req;
  req.set_name("stolen");
  req.set_dimension(kDim);
  v1::Gallery g;
  grpc::Status s = searcher->CreateGallery(&ctx, req, &g);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("not a trusted forwarder"), std::string::npos)
      << s.error_message();
  bool recorded = false;
  for (const auto& r : ReadAuditRecords(root_ + "/shard0")) {
    if (r.value("operation", "") != "CreateGallery") continue;
    recorded = true;
    EXPECT_EQ(r["identity"], TestIdentity("searcher"));
    EXPECT_EQ(r["status_code"], "PERMISSION_DENIED");
  }
  EXPECT_TRUE(recorded);

  // The router's own certificate, held by the router only, is what the
  // shards trust: the same claim through the router is the searcher's own.
  auto via_router = Via(*router_, "searcher");
  grpc::ClientContext ctx2;
  ctx2.AddMetadata("x-candor-forwarded-identity", TestIdentity("admin"));
  EXPECT_EQ(via_router->CreateGallery(&ctx2, req, &g).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace candor::testing
