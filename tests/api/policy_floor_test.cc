// The server's policy flags are a floor: a gallery's policy (SetPolicy or
// CreateGallery) may only tighten it, the floor survives restarts, and a
// policy's refusal is told apart from every other FAILED_PRECONDITION by
// its google.rpc.ErrorInfo (reason POLICY_REJECT) and its audit verdict.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "google/rpc/status_error_info.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/api/test_server.h"

namespace candor::testing {
namespace {

constexpr int kDim = 4;
using grpc::StatusCode;

// The reason of the status's ErrorInfo detail, "" when it carries none.
std::string ErrorReason(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return "";
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) return info.reason();
  }
  return "";
}

// --min_threshold=0.5 --policy_action=reject --require_purpose, plus
// --max_fpir=0.01 --max_disparity=2 when `rates` (those need a calibration
// before any search passes).
api::ServerOptions Floor(bool rates) {
  api::ServerOptions options = TestServer::DefaultOptions();
  options.policy.min_threshold = 0.5f;
  if (rates) {
    options.policy.max_fpir = 0.01;
    options.policy.max_disparity = 2.0;
  }
  options.policy.action = telemetry::PolicyAction::kReject;
  options.policy.require_purpose = true;
  return options;
}

class PolicyFloorTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(/*rates=*/false); }
  void Start(bool rates) {
    server_ = std::make_unique<TestServer>(Floor(rates));
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest req;
    req.set_name("g");
    req.set_dimension(kDim);
    v1::Gallery g;
    ASSERT_TRUE(server_->stub().CreateGallery(&ctx, req, &g).ok());
    grpc::ClientContext ctx2;
    v1::EnrollRequest enroll;
    enroll.set_gallery("g");
    *enroll.mutable_vectors() = PackRows(RandomRows(4, kDim, 1), 4, kDim);
    for (const char* s : {"a", "a", "b", "b"}) enroll.add_subject_ids(s);
    v1::EnrollResponse resp;
    ASSERT_TRUE(server_->stub().Enroll(&ctx2, enroll, &resp).ok());
  }

  grpc::Status SetPolicy(const v1::Policy& policy, v1::Gallery* out = nullptr) {
    grpc::ClientContext ctx;
    v1::SetPolicyRequest req;
    req.set_gallery("g");
    *req.mutable_policy() = policy;
    v1::Gallery resp;
    grpc::Status s = server_->stub().SetPolicy(&ctx, req, &resp);
    if (out != nullptr) *out = resp;
    return s;
  }
  grpc::Status Search(float threshold, const std::string& purpose = "test") {
    grpc::ClientContext ctx;
    v1::SearchRequest req;
    req.set_gallery("g");
    *req.mutable_probes() = PackRows(RandomRows(1, kDim, 2), 1, kDim);
    req.set_top_k(2);
    req.set_threshold(threshold);
    req.set_purpose(purpose);
    v1::SearchResponse resp;
    return server_->stub().Search(&ctx, req, &resp);
  }
  v1::Policy Effective() {
    grpc::ClientContext ctx;
    v1::GetGalleryRequest req;
    req.set_name("g");
    v1::Gallery g;
    EXPECT_TRUE(server_->stub().GetGallery(&ctx, req, &g).ok());
    return g.policy();
  }

  std::unique_ptr<TestServer> server_;
};

TEST_F(PolicyFloorTest, AnAnonymousLooseningIsRefusedAndTheFloorKeepsRefusing) {
  // The report of the issue: --min_threshold=0.5 --policy_action=reject,
  // then SetPolicy(min_threshold=-1, WARN), then a search at 0.1.
  grpc::Status before = Search(0.1f);
  EXPECT_EQ(before.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ErrorReason(before), "POLICY_REJECT") << before.error_message();

  v1::Policy loose;
  loose.set_min_threshold(-1.0f);
  loose.set_action(v1::Policy::WARN);
  grpc::Status refused = SetPolicy(loose);
  EXPECT_EQ(refused.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused.error_message().find("--min_threshold"), std::string::npos)
      << refused.error_message();
  EXPECT_EQ(ErrorReason(refused), "");  // not a search's policy verdict
  EXPECT_FLOAT_EQ(Effective().min_threshold(), 0.5f);

  grpc::Status after = Search(0.1f);
  EXPECT_EQ(after.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ErrorReason(after), "POLICY_REJECT");
  EXPECT_TRUE(Search(0.6f).ok());
}

TEST_F(PolicyFloorTest, EveryLooseningIsRefusedNamingItsFlagAndTighteningIsAccepted) {
  Start(/*rates=*/true);
  struct Case {
    std::function<void(v1::Policy*)> set;
    const char* flag;
  };
  const Case loosen[] = {
      {[](v1::Policy* p) { p->set_min_threshold(0.4f); }, "--min_threshold"},
      {[](v1::Policy* p) { p->set_max_fpir(0.02); }, "--max_fpir"},
      {[](v1::Policy* p) { p->set_max_disparity(3.0); }, "--max_disparity"},
      {[](v1::Policy* p) { p->set_action(v1::Policy::WARN); }, "--policy_action"},
  };
  for (const Case& c : loosen) {
    v1::Policy p;
    c.set(&p);
    grpc::Status s = SetPolicy(p);
    EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION) << c.flag;
    EXPECT_NE(s.error_message().find(c.flag), std::string::npos)
        << s.error_message();
  }
  v1::Policy tight;
  tight.set_min_threshold(0.7f);
  tight.set_max_fpir(0.001);
  tight.set_max_disparity(1.5);
  tight.set_action(v1::Policy::REJECT);
  v1::Gallery g;
  ASSERT_TRUE(SetPolicy(tight, &g).ok());
  EXPECT_FLOAT_EQ(g.policy().min_threshold(), 0.7f);
  EXPECT_DOUBLE_EQ(g.policy().max_fpir(), 0.001);
  EXPECT_DOUBLE_EQ(g.policy().max_disparity(), 1.5);

  // SetPolicy's audit record holds the policy before and after.
  const auto records = ReadAuditRecords(server_->data_dir(), "SetPolicy");
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records.back()["status_code"], "OK");
  EXPECT_TRUE(records.back()["details"].contains("effective_before"));
  EXPECT_TRUE(records.back()["details"].contains("effective_after"));
  EXPECT_NE(records.back()["details"]["effective_before"],
            records.back()["details"]["effective_after"]);
}

TEST_F(PolicyFloorTest, CreateGalleryValidatesItsPolicyLikeSetPolicy) {
  auto create = [&](const std::string& name, const v1::Policy& policy) {
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest req;
    req.set_name(name);
    req.set_dimension(kDim);
    *req.mutable_policy() = policy;
    v1::Gallery g;
    return server_->stub().CreateGallery(&ctx, req, &g).error_code();
  };
  v1::Policy p;
  p.set_min_threshold(0.1f);
  EXPECT_EQ(create("loose", p), StatusCode::FAILED_PRECONDITION);
  p.set_min_threshold(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(create("nan", p), StatusCode::INVALID_ARGUMENT);
  v1::Policy fpir;
  fpir.set_max_fpir(1.5);
  EXPECT_EQ(create("fpir", fpir), StatusCode::INVALID_ARGUMENT);
  v1::Policy disparity;
  disparity.set_max_disparity(0.5);
  EXPECT_EQ(create("disparity", disparity), StatusCode::INVALID_ARGUMENT);
  v1::Policy ok;
  ok.set_min_threshold(0.9f);
  EXPECT_EQ(create("strict", ok), StatusCode::OK);
  grpc::ClientContext ctx;
  v1::ListGalleriesResponse list;
  ASSERT_TRUE(server_->stub().ListGalleries(&ctx, {}, &list).ok());
  EXPECT_EQ(list.galleries_size(), 2);  // g and strict only
}

TEST_F(PolicyFloorTest, TheFloorSurvivesRestartAndARaisedFloorWins) {
  v1::Policy tight;
  tight.set_min_threshold(0.7f);
  ASSERT_TRUE(SetPolicy(tight).ok());
  server_->Restart();
  EXPECT_FLOAT_EQ(Effective().min_threshold(), 0.7f);
  v1::Policy loose;
  loose.set_min_threshold(0.2f);
  EXPECT_EQ(SetPolicy(loose).error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Search(0.6f).error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(Search(0.75f).ok());
}

TEST_F(PolicyFloorTest, OnlyAPolicyRefusalIsRecordedAsARejectVerdict) {
  EXPECT_EQ(Search(0.1f).error_code(), StatusCode::FAILED_PRECONDITION);
  // max_fpir needs a calibration the gallery lacks: refused, but that is no
  // policy verdict on the probes.
  v1::Policy fpir;
  fpir.set_max_fpir(0.001);
  ASSERT_TRUE(SetPolicy(fpir).ok());
  grpc::Status uncalibrated = Search(0.6f);
  EXPECT_EQ(uncalibrated.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(uncalibrated.error_message().find("calibration"), std::string::npos);
  EXPECT_EQ(ErrorReason(uncalibrated), "");
  const auto records = ReadAuditRecords(server_->data_dir(), "Search");
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records[0]["verdict"], "reject");
  EXPECT_EQ(records[0]["status_code"], "FAILED_PRECONDITION");
  EXPECT_NE(records[1]["verdict"], "reject");
  EXPECT_EQ(records[1]["status_code"], "FAILED_PRECONDITION");
}

TEST_F(PolicyFloorTest, PurposeIsRequiredAndBounded) {
  grpc::Status none = Search(0.6f, "");
  EXPECT_EQ(none.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(none.error_message().find("--require_purpose"), std::string::npos);
  EXPECT_EQ(ErrorReason(none), "");
  grpc::Status huge = Search(0.6f, std::string(257, 'p'));
  EXPECT_EQ(huge.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Search(0.6f, std::string(256, 'p')).ok() ||
              Search(0.6f, std::string(256, 'p')).error_code() ==
                  StatusCode::FAILED_PRECONDITION);
  // The audit record keeps at most the allowed prefix of a purpose.
  for (const auto& r : ReadAuditRecords(server_->data_dir(), "Search")) {
    EXPECT_LE(r["purpose"].get<std::string>().size(), 256u);
  }
}

}  // namespace
}  // namespace candor::testing
