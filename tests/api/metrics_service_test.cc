// /metrics of a real server: every one of the 14 RPCs is counted (refused
// calls included), a deleted gallery leaves no series, every gallery's
// gauges exist from start-up, and client-chosen group labels are capped.
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/api/test_server.h"
#include "tests/lib/loopback_http.h"

namespace candor::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kDim = 8;



class MetricsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api::ServerOptions options = TestServer::DefaultOptions();
    port_ = FreeLoopbackPort();
    ASSERT_GT(port_, 0);
    options.metrics_listen = absl::StrCat("127.0.0.1:", port_);
    options.metrics_max_groups = 2;
    server_ = std::make_unique<TestServer>(options);
  }

  void Create(const std::string& name) {
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest req;
    req.set_name(name);
    req.set_dimension(kDim);
    v1::Gallery g;
    grpc::Status s = server_->stub().CreateGallery(&ctx, req, &g);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Groups A x4, B x3, C x1: with a cap of 2, C is "other".
  void Enroll(const std::string& name) {
    const std::vector<std::string> groups = {"A", "A", "A", "A", "B", "B", "B", "C"};
    v1::EnrollRequest req;
    req.set_gallery(name);
    *req.mutable_vectors() = PackRows(RandomRows(8, kDim, 5), 8, kDim);
    for (size_t i = 0; i < groups.size(); ++i) {
      req.add_subject_ids(absl::StrCat("s", i / 2));
      req.add_groups(groups[i]);
    }
    grpc::ClientContext ctx;
    v1::EnrollResponse resp;
    grpc::Status s = server_->stub().Enroll(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  v1::SearchRequest EverythingSearch(const std::string& gallery) {
    v1::SearchRequest req;
    req.set_gallery(gallery);
    req.set_threshold(-1.0f);
    req.set_top_k(8);
    *req.mutable_probes() = PackRows(RandomRows(2, kDim, 9), 2, kDim);
    return req;
  }

  int port_ = 0;
  std::unique_ptr<TestServer> server_;
};

TEST_F(MetricsServiceTest, EveryRpcIsCountedAndDeletedGalleriesLeaveNothing) {
  Create("g");
  Create("gone");
  Enroll("g");
  Enroll("gone");
  v1::Candor::Stub& stub = server_->stub();
  {
    grpc::ClientContext ctx;
    v1::GetGalleryRequest req;
    req.set_name("g");
    v1::Gallery resp;
    stub.GetGallery(&ctx, req, &resp);
  }
  {
    grpc::ClientContext ctx;
    v1::ListGalleriesResponse resp;
    stub.ListGalleries(&ctx, v1::ListGalleriesRequest(), &resp);
  }
  for (const std::string gallery : {"g", "gone"}) {
    grpc::ClientContext ctx;
    v1::SearchResponse resp;
    grpc::Status s = stub.Search(&ctx, EverythingSearch(gallery), &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  {  // refused: no such gallery
    grpc::ClientContext ctx;
    v1::SearchResponse resp;
    EXPECT_EQ(stub.Search(&ctx, EverythingSearch("nope"), &resp).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext ctx;
    auto stream = stub.SearchStream(&ctx);
    ASSERT_TRUE(stream->Write(EverythingSearch("g")));
    stream->WritesDone();
    v1::SearchResponse resp;
    EXPECT_TRUE(stream->Read(&resp));
    EXPECT_TRUE(stream->Finish().ok());
  }
  {
    grpc::ClientContext ctx;
    v1::CalibrateRequest req;
    req.set_gallery("g");
    req.mutable_self_audit()->set_sample_size(8);
    v1::CalibrationReport resp;
    grpc::Status s = stub.Calibrate(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  {
    grpc::ClientContext ctx;
    v1::GetCalibrationRequest req;
    req.set_gallery("g");
    v1::CalibrationReport resp;
    stub.GetCalibration(&ctx, req, &resp);
  }
  {
    grpc::ClientContext ctx;
    v1::SetPolicyRequest req;
    req.set_gallery("g");
    v1::Gallery resp;
    stub.SetPolicy(&ctx, req, &resp);
  }
  {
    grpc::ClientContext ctx;
    v1::TrainIndexRequest req;
    req.set_gallery("g");
    v1::Gallery resp;
    stub.TrainIndex(&ctx, req, &resp);
  }
  {
    grpc::ClientContext ctx;
    v1::Stats resp;
    stub.GetStats(&ctx, v1::GetStatsRequest(), &resp);
  }
  {
    grpc::ClientContext ctx;
    v1::RemoveRequest req;
    req.set_gallery("g");
    req.mutable_entry_ids()->add_ids(999999);  // unknown: NOT_FOUND
    v1::RemoveResponse resp;
    stub.Remove(&ctx, req, &resp);
  }
  {
    grpc::ClientContext ctx;
    v1::CompactGalleryRequest req;
    req.set_name("g");
    v1::CompactGalleryResponse resp;
    stub.CompactGallery(&ctx, req, &resp);
  }
  std::string text = LoopbackHttpGet(port_, "/metrics");
  EXPECT_THAT(text, HasSubstr("gallery=\"gone\""));
  {
    grpc::ClientContext ctx;
    v1::DeleteGalleryRequest req;
    req.set_name("gone");
    v1::DeleteGalleryResponse resp;
    grpc::Status s = stub.DeleteGallery(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  text = LoopbackHttpGet(port_, "/metrics");
  for (const char* rpc :
       {"CreateGallery", "GetGallery", "ListGalleries", "DeleteGallery",
        "CompactGallery", "Enroll", "Remove", "Search", "SearchStream",
        "Calibrate", "GetCalibration", "SetPolicy", "TrainIndex", "GetStats"}) {
    EXPECT_THAT(text, HasSubstr(absl::StrCat("rpc=\"", rpc, "\"}")))
        << rpc << " is not counted";
  }
  EXPECT_THAT(text, HasSubstr(
      "candor_requests_total{code=\"NOT_FOUND\",rpc=\"Search\"} 1"));
  EXPECT_THAT(text, HasSubstr(
      "candor_requests_total{code=\"OK\",rpc=\"Search\"} 2"));
  EXPECT_THAT(text, Not(HasSubstr("gallery=\"gone\"")));
  // Per-gallery gauges of the live one, the calibration fresh.
  EXPECT_THAT(text, HasSubstr("candor_gallery_entries{gallery=\"g\"} 8"));
  EXPECT_THAT(text, HasSubstr("candor_calibration_stale{gallery=\"g\"} 0"));
  EXPECT_THAT(text, HasSubstr("candor_calibration_age_seconds{gallery=\"g\"}"));
  EXPECT_THAT(text, HasSubstr(
      "candor_gallery_memory_bytes{gallery=\"g\",memory=\"host\"}"));
  EXPECT_THAT(text, HasSubstr("candor_build_info{"));
  EXPECT_THAT(text, HasSubstr("candor_wal_fsync_seconds_count"));
  EXPECT_THAT(text, HasSubstr("candor_search_queue_requests 0"));
  EXPECT_THAT(text, HasSubstr("process_resident_memory_bytes"));
  // Group cap 2: A and B by name, C as "other" (every candidate of the
  // top-8 searches includes the single C entry).
  EXPECT_THAT(text, HasSubstr("candor_candidates_total{gallery=\"g\",group=\"A\"}"));
  EXPECT_THAT(text, HasSubstr("candor_candidates_total{gallery=\"g\",group=\"other\"}"));
  EXPECT_THAT(text, Not(HasSubstr("group=\"C\"")));
  EXPECT_THAT(text, Not(HasSubstr("stage=\"total\"")));
}

TEST_F(MetricsServiceTest, EveryGalleryHasItsGaugesFromStartUp) {
  Create("g");
  Enroll("g");
  server_->Restart();
  // No call since the restart: the scrape alone shows the gallery.
  const std::string text = LoopbackHttpGet(port_, "/metrics");
  EXPECT_THAT(text, HasSubstr("candor_gallery_entries{gallery=\"g\"} 8"));
  EXPECT_THAT(text, HasSubstr("candor_calibration_stale{gallery=\"g\"} 1"));
  EXPECT_THAT(text, Not(HasSubstr("candor_calibration_age_seconds{")));
  EXPECT_THAT(text, HasSubstr(
      "candor_gallery_memory_bytes{gallery=\"g\",memory=\"device\"} 0"));
  EXPECT_THAT(text, Not(HasSubstr("candor_requests_total{")));
}

}  // namespace
}  // namespace candor::testing
