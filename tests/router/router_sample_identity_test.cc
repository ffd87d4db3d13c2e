// SampleEntries as deployed: two TLS shards that trust only the router as a
// forwarder and run the shipped roles file, and a TLS router that calls
// them over mTLS. A sample hands out embeddings: only the admin and the
// router may draw one from a shard, and the router draws one in a caller's
// name only for that caller's self-audit.
#include <chrono>
#include <fstream>
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

constexpr int kDim = 8;
constexpr int kShards = 2;
constexpr char kGallery[] = "g";

grpc::ClientContext* WithDeadline(grpc::ClientContext* ctx) {
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(30));
  return ctx;
}

class RouterSampleIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir("candor-sample-identity");
    certs_ = root_ + "/certs";
    MakeTestCerts(certs_);
    const std::string policy = root_ + "/roles.json";
    std::ofstream(policy) << absl::StrReplaceAll(
        ReadFile(CANDOR_ROLES_JSON),
        {{"spiffe://cluster.local/", "spiffe://candor.test/"}});
    const std::vector<std::string> tls = {
        "--tls_client_ca=" + certs_ + "/ca.pem", "--authz_policy=" + policy};
    std::vector<std::string> shard_flags = tls;
    shard_flags.push_back("--tls_cert=" + certs_ + "/server.pem");
    shard_flags.push_back("--tls_key=" + certs_ + "/server-key.pem");
    shard_flags.push_back("--trusted_forwarders=" + TestIdentity("router"));
    std::vector<std::string> addresses;
    for (int i = 0; i < kShards; ++i) {
      shards_.push_back(std::make_unique<ServerProcess>(
          ServerBinary(), ShardDir(i), shard_flags));
      ASSERT_TRUE(shards_.back()->running());
      addresses.push_back(shards_.back()->address());
    }
    std::vector<std::string> router_flags = tls;
    router_flags.push_back("--role=router");
    router_flags.push_back("--shards=" + absl::StrJoin(addresses, ","));
    router_flags.push_back("--tls_cert=" + certs_ + "/router.pem");
    router_flags.push_back("--tls_key=" + certs_ + "/router-key.pem");
    router_flags.push_back("--shard_tls_ca=" + certs_ + "/ca.pem");
    router_ = std::make_unique<ServerProcess>(ServerBinary(), root_ + "/router",
                                              router_flags);
    ASSERT_TRUE(router_->running());

    // 20 subjects of two entries each, through the router as the admin.
    auto admin = Via(*router_, "admin");
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest create;
    create.set_name(kGallery);
    create.set_dimension(kDim);
    v1::Gallery g;
    grpc::Status s = admin->CreateGallery(WithDeadline(&ctx), create, &g);
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::EnrollRequest enroll;
    enroll.set_gallery(kGallery);
    *enroll.mutable_vectors() = PackRows(RandomRows(40, kDim, 8), 40, kDim);
    for (int i = 0; i < 40; ++i) {
      enroll.add_subject_ids(absl::StrCat("subject-", i / 2));
      enroll.add_groups(i % 4 < 2 ? "a" : "b");
    }
    grpc::ClientContext ctx2;
    v1::EnrollResponse enrolled;
    s = admin->Enroll(WithDeadline(&ctx2), enroll, &enrolled);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void TearDown() override {
    router_.reset();
    shards_.clear();
    RemoveTree(root_);
  }

  std::string ShardDir(int i) const { return absl::StrCat(root_, "/shard", i); }

  std::unique_ptr<v1::Candor::Stub> Via(const ServerProcess& process,
                                        const std::string& client) {
    return v1::Candor::NewStub(TlsChannel(process.address(), certs_, client));
  }

  static grpc::Status Sample(v1::Candor::Stub& stub,
                             v1::SampleEntriesResponse* resp) {
    v1::SampleEntriesRequest req;
    req.set_gallery(kGallery);
    req.set_sample_size(5);
    req.set_seed(1);
    grpc::ClientContext ctx;
    return stub.SampleEntries(WithDeadline(&ctx), req, resp);
  }

  std::string root_, certs_;
  std::vector<std::unique_ptr<ServerProcess>> shards_;
  std::unique_ptr<ServerProcess> router_;
};

TEST_F(RouterSampleIdentityTest, OnlyTheAdminAndTheRouterMaySampleAShard) {
  for (const char* role : {"searcher", "enroller", "auditor"}) {
    auto stub = Via(*shards_[0], role);
    v1::SampleEntriesResponse resp;
    grpc::Status s = Sample(*stub, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << role << ": " << s.error_message();
    EXPECT_EQ(resp.entries_size(), 0) << role;
  }
  for (const char* role : {"admin", "router"}) {
    auto stub = Via(*shards_[0], role);
    v1::SampleEntriesResponse resp;
    grpc::Status s = Sample(*stub, &resp);
    ASSERT_TRUE(s.ok()) << role << ": " << s.error_message();
    EXPECT_GT(resp.entries_size(), 0) << role;
  }
  // Every refusal is on record under the caller's identity.
  int refused = 0;
  for (const auto& r : ReadAuditRecords(ShardDir(0), "SampleEntries")) {
    if (r["status_code"] == "PERMISSION_DENIED") {
      ++refused;
      EXPECT_NE(r["identity"], TestIdentity("admin"));
      EXPECT_NE(r["identity"], TestIdentity("router"));
    }
  }
  EXPECT_EQ(refused, 3);
}

// The auditor may calibrate, so the router may draw the sample for it; the
// shards record the sample under the auditor's identity, forwarded by the
// router. A searcher may not calibrate: refused at the router, and no
// shard is sampled for it.
TEST_F(RouterSampleIdentityTest, ASelfAuditThroughTheRouterSamplesInTheCallersName) {
  auto auditor = Via(*router_, "auditor");
  v1::CalibrateRequest req;
  req.set_gallery(kGallery);
  req.mutable_self_audit()->set_sample_size(10);
  req.mutable_self_audit()->set_seed(3);
  grpc::ClientContext ctx;
  v1::CalibrationReport report;
  grpc::Status s = auditor->Calibrate(WithDeadline(&ctx), req, &report);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(report.calibration().source(), "self-audit");
  EXPECT_EQ(report.overall().nonmated_searches(), 10u);
  EXPECT_EQ(report.overall().mated_searches(), 10u);
  int samples = 0;
  for (int i = 0; i < kShards; ++i) {
    for (const auto& r : ReadAuditRecords(ShardDir(i), "SampleEntries")) {
      ++samples;
      EXPECT_EQ(r["identity"], TestIdentity("auditor")) << r.dump();
      EXPECT_EQ(r["forwarded_by"], TestIdentity("router")) << r.dump();
      EXPECT_EQ(r["status_code"], "OK") << r.dump();
    }
  }
  EXPECT_GE(samples, 1);

  auto searcher = Via(*router_, "searcher");
  grpc::ClientContext ctx2;
  s = searcher->Calibrate(WithDeadline(&ctx2), req, &report);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << s.error_message();
  int after = 0;
  for (int i = 0; i < kShards; ++i) {
    after += static_cast<int>(
        ReadAuditRecords(ShardDir(i), "SampleEntries").size());
  }
  EXPECT_EQ(after, samples) << "a shard was sampled for the searcher";
}

}  // namespace
}  // namespace candor::testing
