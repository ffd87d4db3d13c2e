// The limits against careless or hostile clients, through the real gRPC
// server: each refusal comes before any work, with the most specific status
// and a message naming the flag that sets the limit, and changes nothing.
#include <sys/resource.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/api/test_server.h"

namespace candor::testing {
namespace {

constexpr uint32_t kDim = 4;

api::ServerOptions ServerDefaults() {
  api::ServerOptions options = TestServer::DefaultOptions();
  // The server's own defaults, not the test server's small ones.
  const api::LimitOptions defaults;
  options.limits.max_batch = defaults.max_batch;
  options.limits.max_top_k = defaults.max_top_k;
  options.limits.max_message_bytes = defaults.max_message_bytes;
  return options;
}

grpc::Status CreateGallery(v1::Candor::Stub& stub, const std::string& name) {
  grpc::ClientContext ctx;
  v1::CreateGalleryRequest req;
  req.set_name(name);
  req.set_dimension(kDim);
  v1::Gallery resp;
  return stub.CreateGallery(&ctx, req, &resp);
}

// `rows` entries, subject "<prefix><i>" each (or all `subject` when set).
grpc::Status Enroll(v1::Candor::Stub& stub, const std::string& gallery,
                    int rows, const std::string& prefix, uint64_t seed,
                    const std::string& subject = "") {
  grpc::ClientContext ctx;
  v1::EnrollRequest req;
  req.set_gallery(gallery);
  *req.mutable_vectors() = PackRows(RandomRows(rows, kDim, seed), rows, kDim);
  for (int i = 0; i < rows; ++i) {
    req.add_subject_ids(subject.empty() ? absl::StrCat(prefix, i) : subject);
  }
  v1::EnrollResponse resp;
  return stub.Enroll(&ctx, req, &resp);
}

uint64_t GallerySize(v1::Candor::Stub& stub, const std::string& name) {
  grpc::ClientContext ctx;
  v1::GetGalleryRequest req;
  req.set_name(name);
  v1::Gallery resp;
  EXPECT_TRUE(stub.GetGallery(&ctx, req, &resp).ok());
  return resp.size();
}

// The process's peak resident set (VmHWM), bytes.
int64_t PeakRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return int64_t{usage.ru_maxrss} * 1024;
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) bytes += e.file_size();
  }
  return bytes;
}

// 4096 probes x top_k 1000 over 1000 entries: about 120 MB of response,
// over the 64 MiB message limit. Refused before the search: no candidate
// found, no response built (the peak RSS does not grow by the ~1 GB it
// took), and the audit record says so.
TEST(LimitsTest, ResponseLargerThanMessageLimitRefusedBeforeSearch) {
  TestServer server(ServerDefaults());
  ASSERT_TRUE(CreateGallery(server.stub(), "g").ok());
  ASSERT_TRUE(Enroll(server.stub(), "g", 1000, "s", 1).ok());

  v1::SearchRequest req;
  req.set_gallery("g");
  *req.mutable_probes() = PackRows(RandomRows(4096, kDim, 2), 4096, kDim);
  req.set_top_k(1000);
  req.set_threshold(-1.0f);
  req.set_purpose("case 1");
  const int64_t peak_before = PeakRssBytes();
  grpc::ClientContext ctx;
  v1::SearchResponse resp;
  grpc::Status status = server.stub().Search(&ctx, req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("--max_message_bytes"),
            std::string::npos)
      << status.error_message();
  EXPECT_LT(PeakRssBytes() - peak_before, int64_t{256} << 20);

  auto records = ReadAuditRecords(server.data_dir(), "Search");
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back()["status_code"], "RESOURCE_EXHAUSTED");
  EXPECT_TRUE(records.back()["matched_entry_ids"].empty());

  // The same search with a top_k whose response fits is served.
  req.set_top_k(10);
  grpc::ClientContext ok_ctx;
  ok_ctx.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(60));
  v1::SearchResponse ok_resp;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  auto stub = v1::Candor::NewStub(grpc::CreateCustomChannel(
      server.address(), grpc::InsecureChannelCredentials(), args));
  status = stub->Search(&ok_ctx, req, &ok_resp);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ok_resp.results_size(), 4096);
}

// 40,000 distinct group labels: refused up front, nothing stored.
TEST(LimitsTest, CalibrationWithTooManyGroupsRefused) {
  api::ServerOptions options = TestServer::DefaultOptions();
  options.limits.max_message_bytes = 64 << 20;
  TestServer server(options);
  ASSERT_TRUE(CreateGallery(server.stub(), "g").ok());
  ASSERT_TRUE(Enroll(server.stub(), "g", 20, "s", 1).ok());
  const int probes = 40000;
  v1::CalibrateRequest req;
  req.set_gallery("g");
  v1::LabeledSet* set = req.mutable_labeled();
  *set->mutable_nonmated() =
      PackRows(RandomRows(probes, kDim, 3), probes, kDim);
  for (int i = 0; i < probes; ++i) {
    set->add_nonmated_groups(absl::StrCat("group-", i));
  }
  grpc::ClientContext ctx;
  v1::CalibrationReport resp;
  grpc::Status status = server.stub().Calibrate(&ctx, req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("--max_calibration_groups"),
            std::string::npos)
      << status.error_message();

  grpc::ClientContext get_ctx;
  v1::GetGalleryRequest get;
  get.set_name("g");
  v1::Gallery gallery;
  ASSERT_TRUE(server.stub().GetGallery(&get_ctx, get, &gallery).ok());
  EXPECT_FALSE(gallery.calibrated());

  // A label longer than a group label may be is refused too.
  set->clear_nonmated_groups();
  for (int i = 0; i < probes; ++i) set->add_nonmated_groups(std::string(65, 'x'));
  grpc::ClientContext long_ctx;
  status = server.stub().Calibrate(&long_ctx, req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("nonmated_groups[0]"),
            std::string::npos)
      << status.error_message();
}

// A self-audit searches past every entry of a probe's subject: a subject
// with more entries than --max_top_k is refused before any search.
TEST(LimitsTest, SelfAuditDeeperThanMaxTopKRefused) {
  api::ServerOptions options = TestServer::DefaultOptions();
  options.limits.max_top_k = 8;
  TestServer server(options);
  ASSERT_TRUE(CreateGallery(server.stub(), "g").ok());
  ASSERT_TRUE(Enroll(server.stub(), "g", 20, "", 1, "same-person").ok());
  ASSERT_TRUE(Enroll(server.stub(), "g", 10, "other-", 2).ok());
  v1::CalibrateRequest req;
  req.set_gallery("g");
  req.mutable_self_audit()->set_sample_size(30);
  req.set_top_k(2);
  grpc::ClientContext ctx;
  v1::CalibrationReport resp;
  grpc::Status status = server.stub().Calibrate(&ctx, req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("--max_top_k"), std::string::npos)
      << status.error_message();
}

// Three 8 MiB purposes: refused, and the audit log keeps a short prefix of
// each, not 25 MB.
TEST(LimitsTest, HugePurposeRefusedAndNotLogged) {
  api::ServerOptions options = TestServer::DefaultOptions();
  options.limits.max_message_bytes = 64 << 20;
  TestServer server(options);
  ASSERT_TRUE(CreateGallery(server.stub(), "g").ok());
  ASSERT_TRUE(Enroll(server.stub(), "g", 4, "s", 1).ok());
  for (int i = 0; i < 3; ++i) {
    v1::SearchRequest req;
    req.set_gallery("g");
    *req.mutable_probes() = PackRows(RandomRows(1, kDim, 2), 1, kDim);
    req.set_top_k(1);
    req.set_purpose(std::string(8 << 20, 'p'));
    grpc::ClientContext ctx;
    v1::SearchResponse resp;
    grpc::Status status = server.stub().Search(&ctx, req, &resp);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("--max_purpose_bytes"),
              std::string::npos)
        << status.error_message();
  }
  EXPECT_LT(DirBytes(server.data_dir() + "/audit"), uint64_t{1} << 20);
}

TEST(LimitsTest, GalleriesPerServerCapped) {
  api::ServerOptions options = TestServer::DefaultOptions();
  options.limits.max_galleries = 2;
  TestServer server(options);
  ASSERT_TRUE(CreateGallery(server.stub(), "a").ok());
  ASSERT_TRUE(CreateGallery(server.stub(), "b").ok());
  grpc::Status status = CreateGallery(server.stub(), "c");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("--max_galleries"), std::string::npos)
      << status.error_message();
  grpc::ClientContext list_ctx;
  v1::ListGalleriesResponse list;
  ASSERT_TRUE(server.stub()
                  .ListGalleries(&list_ctx, v1::ListGalleriesRequest(), &list)
                  .ok());
  EXPECT_EQ(list.galleries_size(), 2);
  // Room again once one is deleted.
  grpc::ClientContext del_ctx;
  v1::DeleteGalleryRequest del;
  del.set_name("a");
  v1::DeleteGalleryResponse del_resp;
  ASSERT_TRUE(server.stub().DeleteGallery(&del_ctx, del, &del_resp).ok());
  EXPECT_TRUE(CreateGallery(server.stub(), "c").ok());
}

TEST(LimitsTest, GalleryEntriesCapped) {
  api::ServerOptions options = TestServer::DefaultOptions();
  options.limits.max_gallery_entries = 10;
  TestServer server(options);
  ASSERT_TRUE(CreateGallery(server.stub(), "g").ok());
  ASSERT_TRUE(Enroll(server.stub(), "g", 8, "s", 1).ok());
  grpc::Status status = Enroll(server.stub(), "g", 3, "t", 2);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("--max_gallery_entries"),
            std::string::npos)
      << status.error_message();
  EXPECT_EQ(GallerySize(server.stub(), "g"), 8u);
  EXPECT_TRUE(Enroll(server.stub(), "g", 2, "t", 2).ok());
  EXPECT_EQ(GallerySize(server.stub(), "g"), 10u);
}

TEST(LimitsTest, GalleryBytesCapped) {
  api::ServerOptions options = TestServer::DefaultOptions();
  options.limits.max_gallery_bytes = 10 * kDim * sizeof(float);
  TestServer server(options);
  ASSERT_TRUE(CreateGallery(server.stub(), "g").ok());
  ASSERT_TRUE(Enroll(server.stub(), "g", 8, "s", 1).ok());
  grpc::Status status = Enroll(server.stub(), "g", 3, "t", 2);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("--max_gallery_bytes"),
            std::string::npos)
      << status.error_message();
  EXPECT_EQ(GallerySize(server.stub(), "g"), 8u);
}

}  // namespace
}  // namespace candor::testing
