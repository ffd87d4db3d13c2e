// The router as operators run it: three candor-server shards and a
// candor-server --role=router as child processes on loopback ports, against
// one single candor-server holding the same data (the oracle). Every search
// and the labeled calibration must match the single server's; a shard
// killed with SIGKILL must make the router answer UNAVAILABLE naming it (or
// partial, when asked), and restarting it on its data directory must bring
// back identical answers.
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/cli/synth.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
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
                    std::chrono::seconds(30));
  return ctx;
}

v1::SearchRequest SearchOf(const SynthSet& set, float threshold,
                           uint32_t top_k) {
  v1::SearchRequest req;
  req.set_gallery(kGallery);
  *req.mutable_probes() =
      PackRows(set.vectors.values, static_cast<uint32_t>(set.vectors.rows),
               static_cast<uint32_t>(set.vectors.cols));
  for (size_t i = 0; i < set.groups.size(); ++i) {
    v1::ProbeInfo* info = req.add_probe_info();
    info->set_group(set.groups[i]);
    info->set_ref(set.subject_ids[i]);
  }
  req.set_threshold(threshold);
  req.set_top_k(top_k);
  return req;
}

grpc::Status Search(v1::Candor::Stub& stub, const v1::SearchRequest& req,
                    v1::SearchResponse* resp) {
  grpc::ClientContext ctx;
  return stub.Search(WithDeadline(&ctx), req, resp);
}

void Enroll(v1::Candor::Stub& stub, const SynthSet& set, bool with_ids,
            std::vector<uint64_t>* ids) {
  const int64_t dim = set.vectors.cols;
  for (int64_t first = 0; first < set.vectors.rows; first += kEnrollChunk) {
    const int64_t rows =
        std::min<int64_t>(kEnrollChunk, set.vectors.rows - first);
    v1::EnrollRequest req;
    req.set_gallery(kGallery);
    std::vector<float> chunk(set.vectors.values.begin() + first * dim,
                             set.vectors.values.begin() + (first + rows) * dim);
    *req.mutable_vectors() = PackRows(chunk, static_cast<uint32_t>(rows),
                                      static_cast<uint32_t>(dim));
    for (int64_t i = first; i < first + rows; ++i) {
      req.add_subject_ids(set.subject_ids[static_cast<size_t>(i)]);
      req.add_groups(set.groups[static_cast<size_t>(i)]);
    }
    if (with_ids) req.set_request_id(absl::StrCat("enroll-", first));
    grpc::ClientContext ctx;
    v1::EnrollResponse resp;
    grpc::Status s = stub.Enroll(WithDeadline(&ctx), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(resp.entry_ids_size(), rows);
    if (ids)
      ids->insert(ids->end(), resp.entry_ids().begin(), resp.entry_ids().end());
  }
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

v1::CalibrationReport Calibrate(v1::Candor::Stub& stub, const SynthData& data) {
  v1::CalibrateRequest req;
  req.set_gallery(kGallery);
  req.set_top_k(10);
  v1::LabeledSet* set = req.mutable_labeled();
  const auto pack = [](const SynthSet& s) {
    return PackRows(s.vectors.values, static_cast<uint32_t>(s.vectors.rows),
                    static_cast<uint32_t>(s.vectors.cols));
  };
  *set->mutable_nonmated() = pack(data.nonmated);
  for (const auto& g : data.nonmated.groups) set->add_nonmated_groups(g);
  *set->mutable_mated() = pack(data.mated);
  for (const auto& g : data.mated.groups) set->add_mated_groups(g);
  for (const auto& s : data.mated.subject_ids) set->add_mated_subject_ids(s);
  grpc::ClientContext ctx;
  v1::CalibrationReport report;
  grpc::Status s = stub.Calibrate(WithDeadline(&ctx), req, &report);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return report;
}

void ExpectSameCalibration(const v1::GroupCalibration& got,
                           const v1::GroupCalibration& want) {
  EXPECT_EQ(got.group(), want.group());
  EXPECT_EQ(got.nonmated_searches(), want.nonmated_searches());
  EXPECT_EQ(got.mated_searches(), want.mated_searches());
  ASSERT_EQ(got.points_size(), want.points_size());
  for (int i = 0; i < want.points_size(); ++i) {
    EXPECT_EQ(got.points(i).fpir().errors(), want.points(i).fpir().errors())
        << "group '" << want.group() << "' T=" << want.points(i).threshold();
    EXPECT_EQ(got.points(i).fnir().errors(), want.points(i).fnir().errors())
        << "group '" << want.group() << "' T=" << want.points(i).threshold();
  }
}

class RouterProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SynthOptions options;
    options.subjects = 240;
    options.per_subject = 2;
    options.dim = kDim;
    options.seed = 7;
    auto data = Synthesize(options);
    ASSERT_TRUE(data.ok()) << data.status();
    data_ = *std::move(data);
    cluster_.Start("candor-router-test", kShards);
    if (HasFatalFailure()) return;
    router_ = StartRouter("router", {});
    ASSERT_TRUE(router_->running());
    router_stub_ = router_->NewStub();
  }

  std::unique_ptr<ServerProcess> StartRouter(const std::string& name,
                                             std::vector<std::string> flags) {
    flags.push_back("--shard_timeout_ms=10000");
    return cluster_.StartRouter(name, std::move(flags));
  }

  // Every (threshold, top_k) of the sweep, mated and non-mated probes,
  // through the router and the single server.
  void ExpectSearchesMatch(const std::string& when) {
    for (const auto& [threshold, top_k] :
         std::vector<std::pair<float, uint32_t>>{
             {-1.0f, 10}, {0.3f, 5}, {0.6f, 3}, {0.0f, 1}}) {
      for (const SynthSet* set : {&data_.mated, &data_.nonmated}) {
        const std::string what = absl::StrCat(
            when, ", ", set == &data_.mated ? "mated" : "non-mated",
            ", T=", threshold, ", top_k=", top_k);
        v1::SearchRequest req = SearchOf(*set, threshold, top_k);
        v1::SearchResponse via_router, via_single;
        grpc::Status s = Search(*router_stub_, req, &via_router);
        ASSERT_TRUE(s.ok()) << what << ": " << s.error_message();
        s = Search(*cluster_.single_stub, req, &via_single);
        ASSERT_TRUE(s.ok()) << what << ": " << s.error_message();
        EXPECT_FALSE(via_router.partial()) << what;
        ExpectSameCandidates(via_router, via_single, what);
      }
    }
  }

  SynthData data_;
  // Before the router, which must stop first.
  RouterCluster cluster_;
  std::unique_ptr<ServerProcess> router_;
  std::unique_ptr<v1::Candor::Stub> router_stub_;
};

TEST_F(RouterProcessTest, MatchesSingleServerAndSurvivesAShardLoss) {
  for (v1::Candor::Stub* stub : {router_stub_.get(), cluster_.single_stub.get()}) {
    v1::CreateGalleryRequest req;
    req.set_name(kGallery);
    req.set_dimension(kDim);
    grpc::ClientContext ctx;
    v1::Gallery created;
    grpc::Status s = stub->CreateGallery(WithDeadline(&ctx), req, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  std::vector<uint64_t> router_ids;
  Enroll(*router_stub_, data_.gallery, /*with_ids=*/true, &router_ids);
  Enroll(*cluster_.single_stub, data_.gallery, /*with_ids=*/false, nullptr);
  if (HasFatalFailure()) return;

  // Ids are unique across shards, and the subjects spread over every shard.
  EXPECT_EQ(std::set<uint64_t>(router_ids.begin(), router_ids.end()).size(),
            router_ids.size());
  std::set<uint64_t> shards_used;
  for (uint64_t id : router_ids) shards_used.insert(id >> 48);
  EXPECT_EQ(shards_used.size(), static_cast<size_t>(kShards));

  // A retried enrollment (same request_id) replays on every shard.
  {
    std::vector<uint64_t> again;
    SynthSet first_chunk = data_.gallery;
    first_chunk.vectors.rows = kEnrollChunk;
    first_chunk.vectors.values.resize(static_cast<size_t>(kEnrollChunk * kDim));
    Enroll(*router_stub_, first_chunk, /*with_ids=*/true, &again);
    EXPECT_EQ(again, std::vector<uint64_t>(router_ids.begin(),
                                           router_ids.begin() + kEnrollChunk));
  }

  const v1::Gallery routed = GetGallery(*router_stub_);
  const v1::Gallery single = GetGallery(*cluster_.single_stub);
  EXPECT_EQ(routed.size(), single.size());
  EXPECT_EQ(routed.subjects(), single.subjects());
  ASSERT_EQ(routed.groups_size(), single.groups_size());
  for (int i = 0; i < single.groups_size(); ++i) {
    EXPECT_EQ(routed.groups(i).group(), single.groups(i).group());
    EXPECT_EQ(routed.groups(i).entries(), single.groups(i).entries());
  }

  ExpectSearchesMatch("after enrollment");

  // Calibration through the router describes the whole gallery: the same
  // counts as the single server's.
  const v1::CalibrationReport via_router = Calibrate(*router_stub_, data_);
  const v1::CalibrationReport via_single = Calibrate(*cluster_.single_stub, data_);
  EXPECT_EQ(via_router.calibration().gallery_size_at_calibration(),
            via_single.calibration().gallery_size_at_calibration());
  ExpectSameCalibration(via_router.overall(), via_single.overall());
  ASSERT_EQ(via_router.groups_size(), via_single.groups_size());
  for (int i = 0; i < via_single.groups_size(); ++i) {
    ExpectSameCalibration(via_router.groups(i), via_single.groups(i));
  }
  EXPECT_TRUE(GetGallery(*router_stub_).calibrated());
  {  // ... and every search through the router carries the same report.
    v1::SearchResponse r, s;
    ASSERT_TRUE(
        Search(*router_stub_, SearchOf(data_.nonmated, 0.45f, 5), &r).ok());
    ASSERT_TRUE(
        Search(*cluster_.single_stub, SearchOf(data_.nonmated, 0.45f, 5), &s).ok());
    EXPECT_TRUE(r.report().calibration().present());
    EXPECT_EQ(r.report().fpir().errors(), s.report().fpir().errors());
    EXPECT_EQ(r.report().fpir().searches(), s.report().fpir().searches());
    EXPECT_EQ(r.report().fnir().errors(), s.report().fnir().errors());
    ASSERT_EQ(r.report().groups_size(), s.report().groups_size());
    for (int i = 0; i < s.report().groups_size(); ++i) {
      EXPECT_EQ(r.report().groups(i).fpir().errors(),
                s.report().groups(i).fpir().errors());
    }
  }
  {  // A self-audit samples the whole gallery across the shards.
    v1::CalibrateRequest req;
    req.set_gallery(kGallery);
    req.mutable_self_audit()->set_sample_size(10);
    grpc::ClientContext ctx;
    v1::CalibrationReport report;
    grpc::Status s = router_stub_->Calibrate(WithDeadline(&ctx), req, &report);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(report.calibration().source(), "self-audit");
    EXPECT_EQ(report.calibration().gallery_size_at_calibration(),
              via_single.calibration().gallery_size_at_calibration());
  }

  // Kill shard 1: strict searches are UNAVAILABLE naming it; allow_partial
  // answers from the others, flagged.
  const int port = cluster_.shards[1]->port();
  cluster_.shards[1]->Kill();
  {
    v1::SearchRequest req = SearchOf(data_.mated, 0.3f, 5);
    v1::SearchResponse full, partial;
    grpc::Status s = Search(*cluster_.single_stub, req, &full);
    ASSERT_TRUE(s.ok());
    v1::SearchResponse resp;
    s = Search(*router_stub_, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_NE(s.error_message().find(cluster_.shard_addresses[1]), std::string::npos)
        << s.error_message();
    req.set_allow_partial(true);
    s = Search(*router_stub_, req, &partial);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(partial.partial());
    ASSERT_EQ(partial.missing_shards_size(), 1);
    EXPECT_EQ(partial.missing_shards(0), cluster_.shard_addresses[1]);
    // What remains is each probe's best among the live shards' entries:
    // every candidate is one the full answer would rank at least as high.
    for (int p = 0; p < partial.results_size(); ++p) {
      for (const auto& c : partial.results(p).candidates()) {
        EXPECT_NE(c.entry_id() >> 48, 1u);
      }
    }
  }

  // Restart it on its data directory and port: full answers again.
  cluster_.shards[1] = std::make_unique<ServerProcess>(
      ServerBinary(), cluster_.ShardDir(1),
      std::vector<std::string>{"--threads=1",
                               absl::StrCat("--listen=127.0.0.1:", port)});
  ASSERT_TRUE(cluster_.shards[1]->running());
  ASSERT_EQ(cluster_.shards[1]->port(), port);
  bool back = false;
  for (int attempt = 0; attempt < 100 && !back; ++attempt) {
    v1::SearchResponse resp;
    back = Search(*router_stub_, SearchOf(data_.mated, 0.3f, 5), &resp).ok();
    if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(back) << "the router did not reach the restarted shard";
  ExpectSearchesMatch("after the shard restarted");

  // Removal by subject goes to its shard; by id, to the owning shards.
  {
    v1::RemoveRequest req;
    req.set_gallery(kGallery);
    req.set_subject_id("subj-3");
    for (v1::Candor::Stub* stub : {router_stub_.get(), cluster_.single_stub.get()}) {
      grpc::ClientContext ctx;
      v1::RemoveResponse resp;
      grpc::Status s = stub->Remove(WithDeadline(&ctx), req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(resp.removed_entry_ids_size(), 2);
    }
    v1::RemoveRequest by_id;
    by_id.set_gallery(kGallery);
    by_id.mutable_entry_ids()->add_ids(router_ids.back());
    grpc::ClientContext ctx;
    v1::RemoveResponse resp;
    grpc::Status s = router_stub_->Remove(WithDeadline(&ctx), by_id, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(resp.removed_entry_ids_size(), 1);
    EXPECT_EQ(resp.removed_entry_ids(0), router_ids.back());
    EXPECT_EQ(GetGallery(*router_stub_).size(),
              GetGallery(*cluster_.single_stub).size() - 1);
  }
}

TEST_F(RouterProcessTest, AppliesItsPolicyAtTheRouter) {
  std::unique_ptr<ServerProcess> strict = StartRouter(
      "strict-router", {"--min_threshold=0.5", "--policy_action=reject"});
  ASSERT_TRUE(strict->running());
  auto stub = strict->NewStub();
  v1::CreateGalleryRequest create;
  create.set_name(kGallery);
  create.set_dimension(kDim);
  {  // A gallery's own policy is kept by the router, over its flags.
    v1::CreateGalleryRequest with_policy = create;
    with_policy.set_name(std::string(kGallery) + "-strict");
    with_policy.mutable_policy()->set_max_fpir(0.01);
    grpc::ClientContext ctx;
    v1::Gallery created;
    grpc::Status s =
        stub->CreateGallery(WithDeadline(&ctx), with_policy, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_DOUBLE_EQ(created.policy().max_fpir(), 0.01);
    EXPECT_FLOAT_EQ(created.policy().min_threshold(), 0.5f);
    // One that would loosen the router's flags is refused.
    with_policy.set_name(std::string(kGallery) + "-loose");
    with_policy.mutable_policy()->set_min_threshold(0.1f);
    grpc::ClientContext ctx2;
    EXPECT_EQ(stub->CreateGallery(WithDeadline(&ctx2), with_policy, &created)
                  .error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
  create.mutable_policy();  // an empty policy, as clients send by default
  grpc::ClientContext ctx;
  v1::Gallery created;
  grpc::Status created_status =
      stub->CreateGallery(WithDeadline(&ctx), create, &created);
  ASSERT_TRUE(created_status.ok())
      << created_status.error_code() << ": " << created_status.error_message();
  Enroll(*stub, data_.gallery, /*with_ids=*/false, nullptr);
  v1::SearchResponse resp;
  grpc::Status s = Search(*stub, SearchOf(data_.mated, 0.3f, 5), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("0.5"), std::string::npos)
      << s.error_message();
  s = Search(*stub, SearchOf(data_.mated, 0.6f, 5), &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.report().verdict().outcome(), v1::PolicyVerdict::PASS);
  // No threshold: the policy threshold (min_threshold) is used.
  v1::SearchRequest req = SearchOf(data_.mated, 0.0f, 5);
  req.clear_threshold();
  s = Search(*stub, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FLOAT_EQ(resp.report().threshold(), 0.5f);
  EXPECT_EQ(resp.report().source(), v1::ThresholdReport::POLICY);
}

}  // namespace
}  // namespace candor::testing
