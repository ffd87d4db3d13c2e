// Telemetry parity between a router over three shards and one server
// holding the same entries, all as child processes on loopback ports: what
// a calibration measures, what a self-audit measures, a gallery's policy
// and the audit log must not depend on whether the gallery is sharded.
// Each test also kills the router (SIGKILL, a crash) and restarts it on
// its data directory, which must bring back what it had acknowledged.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/cli/synth.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/telemetry/audit_key.h"
#include "server/telemetry/audit_verify.h"
#include "tests/api/test_server.h"
#include "tests/integration/server_process.h"
#include "tests/router/router_cluster.h"
#include "tests/router/search_compare.h"

namespace candor::testing {
namespace {

constexpr int kShards = 3;
constexpr int kDim = 32;
constexpr char kGallery[] = "faces";
constexpr int kEnrollChunk = 128;

grpc::ClientContext* WithDeadline(grpc::ClientContext* ctx) {
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(60));
  return ctx;
}

v1::Matrix Pack(const SynthSet& set) {
  return PackRows(set.vectors.values, static_cast<uint32_t>(set.vectors.rows),
                  static_cast<uint32_t>(set.vectors.cols));
}

// Every 0.05 over [-1, 1], and every 0.01 where the synthetic scores lie.
std::vector<float> Thresholds() {
  std::vector<float> grid;
  for (int i = -20; i <= 20; ++i) grid.push_back(static_cast<float>(i) * 0.05f);
  for (int i = 15; i <= 85; ++i) {
    if (i % 5 != 0) grid.push_back(static_cast<float>(i) * 0.01f);
  }
  return grid;
}

v1::CalibrateRequest Labeled(const SynthData& data) {
  v1::CalibrateRequest req;
  req.set_gallery(kGallery);
  req.set_top_k(10);
  v1::LabeledSet* set = req.mutable_labeled();
  *set->mutable_nonmated() = Pack(data.nonmated);
  for (const auto& g : data.nonmated.groups) set->add_nonmated_groups(g);
  *set->mutable_mated() = Pack(data.mated);
  for (const auto& g : data.mated.groups) set->add_mated_groups(g);
  for (const auto& s : data.mated.subject_ids) set->add_mated_subject_ids(s);
  return req;
}

v1::CalibrateRequest SelfAudit(uint32_t sample_size, uint64_t seed) {
  v1::CalibrateRequest req;
  req.set_gallery(kGallery);
  req.set_top_k(10);
  req.mutable_self_audit()->set_sample_size(sample_size);
  req.mutable_self_audit()->set_seed(seed);
  return req;
}

absl::StatusOr<v1::CalibrationReport> Calibrate(
    v1::Candor::Stub& stub, const v1::CalibrateRequest& req) {
  grpc::ClientContext ctx;
  v1::CalibrationReport report;
  grpc::Status s = stub.Calibrate(WithDeadline(&ctx), req, &report);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                        s.error_message());
  }
  return report;
}

absl::StatusOr<v1::CalibrationReport> GetCalibration(v1::Candor::Stub& stub) {
  v1::GetCalibrationRequest req;
  req.set_gallery(kGallery);
  for (float t : Thresholds()) req.add_thresholds(t);
  req.set_target_fpir(0.01);
  grpc::ClientContext ctx;
  v1::CalibrationReport report;
  grpc::Status s = stub.GetCalibration(WithDeadline(&ctx), req, &report);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                        s.error_message());
  }
  return report;
}

void ExpectSameCounts(const v1::GroupCalibration& got,
                      const v1::GroupCalibration& want,
                      const std::string& when) {
  const std::string where = absl::StrCat(when, ", group '", want.group(), "'");
  EXPECT_EQ(got.group(), want.group()) << where;
  EXPECT_EQ(got.nonmated_searches(), want.nonmated_searches()) << where;
  EXPECT_EQ(got.mated_searches(), want.mated_searches()) << where;
  ASSERT_EQ(got.points_size(), want.points_size()) << where;
  for (int i = 0; i < want.points_size(); ++i) {
    const v1::ThresholdPoint& g = got.points(i);
    const v1::ThresholdPoint& w = want.points(i);
    const std::string at = absl::StrCat(where, ", T=", w.threshold());
    EXPECT_EQ(g.threshold(), w.threshold()) << at;
    EXPECT_EQ(g.fpir().errors(), w.fpir().errors()) << at;
    EXPECT_EQ(g.fpir().searches(), w.fpir().searches()) << at;
    EXPECT_EQ(g.fnir().errors(), w.fnir().errors()) << at;
    EXPECT_EQ(g.fnir().searches(), w.fnir().searches()) << at;
  }
  // A score, not a count: a shard's GEMM over its part of the gallery may
  // round a score differently in the last place from the single server's.
  EXPECT_EQ(got.has_threshold_for_target(), want.has_threshold_for_target())
      << where;
  if (want.has_threshold_for_target()) {
    EXPECT_NEAR(got.threshold_for_target(), want.threshold_for_target(),
                kScoreTolerance)
        << where;
  }
}

// Every count of every group at every threshold of the grid.
void ExpectSameReport(const v1::CalibrationReport& got,
                      const v1::CalibrationReport& want,
                      const std::string& when) {
  EXPECT_EQ(got.calibration().source(), want.calibration().source()) << when;
  EXPECT_EQ(got.calibration().gallery_size_at_calibration(),
            want.calibration().gallery_size_at_calibration())
      << when;
  EXPECT_EQ(got.top_k(), want.top_k()) << when;
  ExpectSameCounts(got.overall(), want.overall(), when);
  ASSERT_EQ(got.groups_size(), want.groups_size()) << when;
  for (int i = 0; i < want.groups_size(); ++i) {
    ExpectSameCounts(got.groups(i), want.groups(i), when);
  }
  EXPECT_EQ(got.has_threshold_for_target(), want.has_threshold_for_target())
      << when;
  if (want.has_threshold_for_target()) {
    EXPECT_NEAR(got.threshold_for_target(), want.threshold_for_target(),
                kScoreTolerance)
        << when;
  }
}

class ParityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SynthOptions options;
    options.subjects = 240;
    options.per_subject = 2;
    options.dim = kDim;
    options.seed = 23;
    auto data = Synthesize(options);
    ASSERT_TRUE(data.ok()) << data.status();
    data_ = *std::move(data);
    cluster_.Start("candor-parity-test", kShards);
    if (HasFatalFailure()) return;
    StartRouter();
    ASSERT_TRUE(router_->running());
    for (v1::Candor::Stub* stub : {router_stub_.get(), cluster_.single_stub.get()}) {
      v1::CreateGalleryRequest req;
      req.set_name(kGallery);
      req.set_dimension(kDim);
      grpc::ClientContext ctx;
      v1::Gallery created;
      grpc::Status s = stub->CreateGallery(WithDeadline(&ctx), req, &created);
      ASSERT_TRUE(s.ok()) << s.error_message();
      Enroll(*stub);
      if (HasFatalFailure()) return;
    }
  }

  std::string RouterDir() const { return cluster_.root + "/router"; }

  // On the same data directory every time.
  void StartRouter() {
    router_ = cluster_.StartRouter("router", {"--shard_timeout_ms=30000"});
    router_stub_ = router_->running() ? router_->NewStub() : nullptr;
  }

  // SIGKILL, then a new router process on the same data directory.
  void CrashAndRestartRouter() {
    router_->Kill();
    router_.reset();
    StartRouter();
    ASSERT_TRUE(router_->running()) << "the router did not come back";
  }

  void Enroll(v1::Candor::Stub& stub) {
    const SynthSet& set = data_.gallery;
    for (int64_t first = 0; first < set.vectors.rows; first += kEnrollChunk) {
      const int64_t rows =
          std::min<int64_t>(kEnrollChunk, set.vectors.rows - first);
      v1::EnrollRequest req;
      req.set_gallery(kGallery);
      std::vector<float> chunk(
          set.vectors.values.begin() + first * kDim,
          set.vectors.values.begin() + (first + rows) * kDim);
      *req.mutable_vectors() = PackRows(chunk, static_cast<uint32_t>(rows),
                                        static_cast<uint32_t>(kDim));
      for (int64_t i = first; i < first + rows; ++i) {
        req.add_subject_ids(set.subject_ids[static_cast<size_t>(i)]);
        req.add_groups(set.groups[static_cast<size_t>(i)]);
      }
      grpc::ClientContext ctx;
      v1::EnrollResponse resp;
      grpc::Status s = stub.Enroll(WithDeadline(&ctx), req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }

  grpc::Status Search(v1::Candor::Stub& stub, float threshold,
                      const std::string& purpose,
                      v1::SearchResponse* resp) {
    v1::SearchRequest req;
    req.set_gallery(kGallery);
    *req.mutable_probes() = Pack(data_.mated);
    req.set_threshold(threshold);
    req.set_top_k(5);
    req.set_purpose(purpose);
    grpc::ClientContext ctx;
    return stub.Search(WithDeadline(&ctx), req, resp);
  }

  v1::Gallery GetGallery(v1::Candor::Stub& stub) {
    v1::GetGalleryRequest req;
    req.set_name(kGallery);
    grpc::ClientContext ctx;
    v1::Gallery gallery;
    grpc::Status s = stub.GetGallery(WithDeadline(&ctx), req, &gallery);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return gallery;
  }

  // Search records in each shard's audit log.
  std::vector<size_t> ShardSearchRecords() const {
    std::vector<size_t> counts;
    for (int i = 0; i < kShards; ++i) {
      counts.push_back(ReadAuditRecords(cluster_.ShardDir(i), "Search").size());
    }
    return counts;
  }

  SynthData data_;
  // Before the router, which must stop first.
  RouterCluster cluster_;
  std::unique_ptr<ServerProcess> router_;
  std::unique_ptr<v1::Candor::Stub> router_stub_;
};

// One held-out labeled set (groups A, B, C; mated and non-mated probes)
// calibrated through the router and on the single server: every count of
// every group at every threshold is the same, before and after the router
// crashes and restarts.
TEST_F(ParityTest, LabeledCalibrationCountsMatchAndOutliveARouterCrash) {
  auto via_router = Calibrate(*router_stub_, Labeled(data_));
  ASSERT_TRUE(via_router.ok()) << via_router.status();
  auto via_single = Calibrate(*cluster_.single_stub, Labeled(data_));
  ASSERT_TRUE(via_single.ok()) << via_single.status();
  EXPECT_EQ(via_router->calibration().source(), "labeled");

  auto single = GetCalibration(*cluster_.single_stub);
  ASSERT_TRUE(single.ok()) << single.status();
  ASSERT_EQ(single->groups_size(), 3);
  EXPECT_EQ(single->overall().nonmated_searches(),
            static_cast<uint64_t>(data_.nonmated.vectors.rows));
  EXPECT_EQ(single->overall().mated_searches(),
            static_cast<uint64_t>(data_.mated.vectors.rows));
  // The grid reaches from no errors of one kind to all of them: a
  // comparison that would notice a shifted score.
  EXPECT_GT(single->overall().points(0).fpir().errors(), 0u);
  EXPECT_EQ(single->overall().points(single->overall().points_size() - 1)
                .fpir()
                .errors(),
            0u);

  auto routed = GetCalibration(*router_stub_);
  ASSERT_TRUE(routed.ok()) << routed.status();
  ExpectSameReport(*routed, *single, "through the router");
  EXPECT_TRUE(GetGallery(*router_stub_).calibrated());

  CrashAndRestartRouter();
  if (HasFatalFailure()) return;
  EXPECT_TRUE(GetGallery(*router_stub_).calibrated());
  auto restarted = GetCalibration(*router_stub_);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  ExpectSameReport(*restarted, *single, "after the router restarted");
}

// A self-audit through the router: it draws its sample from the shards
// (SampleEntries, recorded in their audit logs). A sample of the whole
// gallery is the same set of entries as on the single server, so every
// count matches; a partial one, with the same seed, draws other entries but
// as many, and the same again for the same seed.
TEST_F(ParityTest, SelfAuditThroughTheRouterMatchesTheSingleServer) {
  const uint32_t everything = 100000;
  auto via_router = Calibrate(*router_stub_, SelfAudit(everything, 5));
  ASSERT_TRUE(via_router.ok()) << via_router.status();
  auto via_single = Calibrate(*cluster_.single_stub, SelfAudit(everything, 5));
  ASSERT_TRUE(via_single.ok()) << via_single.status();
  EXPECT_EQ(via_router->calibration().source(), "self-audit");
  const uint64_t entries = static_cast<uint64_t>(data_.gallery.vectors.rows);
  EXPECT_EQ(via_router->overall().nonmated_searches(), entries);
  // Every subject has two entries, so every sampled entry has a mate.
  EXPECT_EQ(via_router->overall().mated_searches(), entries);
  auto single = GetCalibration(*cluster_.single_stub);
  ASSERT_TRUE(single.ok()) << single.status();
  auto routed = GetCalibration(*router_stub_);
  ASSERT_TRUE(routed.ok()) << routed.status();
  ExpectSameReport(*routed, *single, "self-audit of every entry");
  for (int i = 0; i < kShards; ++i) {
    const auto samples = ReadAuditRecords(cluster_.ShardDir(i), "SampleEntries");
    ASSERT_FALSE(samples.empty()) << "shard " << i << " was not sampled";
    EXPECT_EQ(samples.back()["status_code"], "OK") << "shard " << i;
  }

  constexpr uint32_t kPart = 90;
  auto part_router = Calibrate(*router_stub_, SelfAudit(kPart, 7));
  ASSERT_TRUE(part_router.ok()) << part_router.status();
  auto part_single = Calibrate(*cluster_.single_stub, SelfAudit(kPart, 7));
  ASSERT_TRUE(part_single.ok()) << part_single.status();
  EXPECT_EQ(part_router->overall().nonmated_searches(), kPart);
  EXPECT_EQ(part_router->overall().mated_searches(), kPart);
  EXPECT_EQ(part_single->overall().nonmated_searches(), kPart);
  EXPECT_EQ(part_router->calibration().gallery_size_at_calibration(),
            part_single->calibration().gallery_size_at_calibration());
  auto first = GetCalibration(*router_stub_);
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = Calibrate(*router_stub_, SelfAudit(kPart, 7));
  ASSERT_TRUE(again.ok()) << again.status();
  auto second = GetCalibration(*router_stub_);
  ASSERT_TRUE(second.ok()) << second.status();
  ExpectSameReport(*second, *first, "the same seed through the router again");

  CrashAndRestartRouter();
  if (HasFatalFailure()) return;
  auto restarted = GetCalibration(*router_stub_);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  ExpectSameReport(*restarted, *first, "self-audit after the router restarted");
}

// A REJECT policy set through the router is kept by the router, shown by
// GetGallery, and enforced there: a breaching search never reaches a
// shard, also after the router crashes and restarts.
TEST_F(ParityTest, APolicySetThroughTheRouterIsEnforcedByIt) {
  v1::SetPolicyRequest set;
  set.set_gallery(kGallery);
  set.mutable_policy()->set_min_threshold(0.5f);
  set.mutable_policy()->set_action(v1::Policy::REJECT);
  grpc::ClientContext ctx;
  v1::Gallery after;
  grpc::Status s = router_stub_->SetPolicy(WithDeadline(&ctx), set, &after);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FLOAT_EQ(after.policy().min_threshold(), 0.5f);
  EXPECT_EQ(after.policy().action(), v1::Policy::REJECT);

  for (const char* when : {"once set", "after the router restarted"}) {
    if (std::string(when) != "once set") {
      CrashAndRestartRouter();
      if (HasFatalFailure()) return;
    }
    const v1::Gallery gallery = GetGallery(*router_stub_);
    EXPECT_TRUE(gallery.policy().has_min_threshold()) << when;
    EXPECT_FLOAT_EQ(gallery.policy().min_threshold(), 0.5f) << when;
    EXPECT_EQ(gallery.policy().action(), v1::Policy::REJECT) << when;

    const std::vector<size_t> before = ShardSearchRecords();
    v1::SearchResponse resp;
    s = Search(*router_stub_, 0.3f, "breach", &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << when;
    EXPECT_NE(s.error_message().find("0.5"), std::string::npos)
        << when << ": " << s.error_message();
    EXPECT_EQ(resp.results_size(), 0) << when;
    EXPECT_EQ(ShardSearchRecords(), before)
        << when << ": the breaching search reached a shard";

    s = Search(*router_stub_, 0.6f, "within", &resp);
    ASSERT_TRUE(s.ok()) << when << ": " << s.error_message();
    EXPECT_EQ(resp.results_size(), data_.mated.vectors.rows) << when;
  }
}

// A search through the router is in the router's own audit log, under its
// purpose, and the log verifies under the router's key; so is a refused
// one.
TEST_F(ParityTest, ASearchThroughTheRouterIsInTheRoutersAuditLog) {
  v1::SearchResponse resp;
  grpc::Status s = Search(*router_stub_, 0.4f, "case 42", &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::SearchRequest bad;
  bad.set_gallery("no-such-gallery");
  bad.set_top_k(1);
  *bad.mutable_probes() = Pack(data_.mated);
  grpc::ClientContext ctx;
  v1::SearchResponse bad_resp;
  EXPECT_FALSE(router_stub_->Search(WithDeadline(&ctx), bad, &bad_resp).ok());

  const auto records = ReadAuditRecords(RouterDir(), "Search");
  bool found = false, refused = false;
  for (const auto& r : records) {
    if (r.value("purpose", "") == "case 42") {
      found = true;
      EXPECT_EQ(r.value("gallery", ""), kGallery) << r.dump();
      EXPECT_EQ(r.value("status_code", ""), "OK") << r.dump();
    }
    if (r.value("gallery", "") == "no-such-gallery") {
      refused = true;
      EXPECT_NE(r.value("status_code", ""), "OK") << r.dump();
    }
  }
  EXPECT_TRUE(found) << "no record of the search in " << RouterDir()
                     << "/audit (" << records.size() << " Search records)";
  EXPECT_TRUE(refused) << "no record of the refused search";

  auto key = telemetry::LoadAuditKey(RouterDir() + "/audit.key");
  ASSERT_TRUE(key.ok()) << key.status();
  telemetry::VerifyOptions verify;
  verify.dir = RouterDir() + "/audit";
  verify.key = *key;
  telemetry::VerifyResult result;
  absl::Status verified = telemetry::VerifyAuditLog(verify, &result);
  EXPECT_TRUE(verified.ok()) << verified;
  EXPECT_GE(result.records, records.size());

  // The record outlives a crash of the router, and the chain goes on.
  CrashAndRestartRouter();
  if (HasFatalFailure()) return;
  ASSERT_TRUE(Search(*router_stub_, 0.4f, "case 43", &resp).ok());
  bool both = false;
  int seen = 0;
  for (const auto& r : ReadAuditRecords(RouterDir(), "Search")) {
    const std::string purpose = r.value("purpose", "");
    if (purpose == "case 42" || purpose == "case 43") ++seen;
  }
  both = seen == 2;
  EXPECT_TRUE(both) << seen << " of the two searches recorded";
  verified = telemetry::VerifyAuditLog(verify, &result);
  EXPECT_TRUE(verified.ok()) << verified;
}

}  // namespace
}  // namespace candor::testing
