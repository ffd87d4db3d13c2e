// The Candor service through a real gRPC server on loopback.
#include <algorithm>
#include <cmath>
#include <limits>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "tests/api/test_server.h"

namespace candor::testing {
namespace {

constexpr uint32_t kDim = 16;

struct Hit {
  uint64_t id;
  double score;
};

// Independent oracle: normalize in double, dot in double, filter, sort.
std::vector<Hit> BruteForce(const std::vector<float>& gallery,
                            const std::vector<uint64_t>& ids, const float* probe,
                            int dim, double threshold, int top_k) {
  auto norm = [dim](const float* x) {
    double s = 0;
    for (int c = 0; c < dim; ++c) s += double(x[c]) * x[c];
    return std::sqrt(s);
  };
  const double pn = norm(probe);
  std::vector<Hit> hits;
  for (size_t r = 0; r < ids.size(); ++r) {
    const float* g = gallery.data() + r * dim;
    double dot = 0;
    for (int c = 0; c < dim; ++c) dot += double(g[c]) * probe[c];
    const double score = dot / (norm(g) * pn);
    if (score >= threshold) hits.push_back({ids[r], score});
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  });
  if (hits.size() > size_t(top_k)) hits.resize(top_k);
  return hits;
}

class ServiceTest : public ::testing::Test {
 protected:
  grpc::Status CreateGallery(const std::string& name, uint32_t dim = kDim) {
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest req;
    req.set_name(name);
    req.set_dimension(dim);
    v1::Gallery resp;
    return server_.stub().CreateGallery(&ctx, req, &resp);
  }

  // Enrolls in requests of at most 50 rows (the test server's max_batch is 64).
  std::vector<uint64_t> Enroll(const std::string& gallery,
                               const std::vector<float>& vectors, int rows,
                               const std::string& subject_prefix,
                               const std::string& group = "") {
    std::vector<uint64_t> ids;
    for (int first = 0; first < rows; first += 50) {
      const int n = std::min(50, rows - first);
      grpc::ClientContext ctx;
      v1::EnrollRequest req;
      req.set_gallery(gallery);
      std::vector<float> chunk(vectors.begin() + first * kDim,
                               vectors.begin() + (first + n) * kDim);
      *req.mutable_vectors() = PackRows(chunk, n, kDim);
      for (int i = first; i < first + n; ++i) {
        req.add_subject_ids(subject_prefix + std::to_string(i));
        if (!group.empty()) req.add_groups(group);
      }
      v1::EnrollResponse resp;
      grpc::Status s = server_.stub().Enroll(&ctx, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      ids.insert(ids.end(), resp.entry_ids().begin(), resp.entry_ids().end());
    }
    return ids;
  }

  v1::Gallery GetGallery(const std::string& name) {
    grpc::ClientContext ctx;
    v1::GetGalleryRequest req;
    req.set_name(name);
    v1::Gallery resp;
    EXPECT_TRUE(server_.stub().GetGallery(&ctx, req, &resp).ok());
    return resp;
  }

  v1::SearchRequest SearchRequest(const std::string& gallery,
                                  const std::vector<float>& probes, int rows,
                                  float threshold, int top_k) {
    v1::SearchRequest req;
    req.set_gallery(gallery);
    *req.mutable_probes() = PackRows(probes, rows, kDim);
    req.set_threshold(threshold);
    req.set_top_k(top_k);
    return req;
  }

  TestServer server_;
};

TEST_F(ServiceTest, GalleryLifecycle) {
  ASSERT_TRUE(CreateGallery("faces").ok());
  EXPECT_EQ(CreateGallery("faces").error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(CreateGallery("bad name!").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CreateGallery("zero", 0).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  Enroll("faces", RandomRows(5, kDim, 1), 5, "s", "A");
  v1::Gallery g = GetGallery("faces");
  EXPECT_EQ(g.dimension(), kDim);
  EXPECT_EQ(g.size(), 5u);
  EXPECT_EQ(g.subjects(), 5u);
  ASSERT_EQ(g.groups_size(), 1);
  EXPECT_EQ(g.groups(0).group(), "A");
  EXPECT_EQ(g.backend(), "cpu-flat");
  EXPECT_GT(g.memory().host_bytes(), 5u * kDim * 4);
  EXPECT_EQ(g.memory().mapped_bytes(), 0u);
  {
    // Compacted, the rows are read from the mapped snapshot, and GetStats
    // adds them up.
    grpc::ClientContext ctx;
    v1::CompactGalleryRequest req;
    req.set_name("faces");
    v1::CompactGalleryResponse resp;
    ASSERT_TRUE(server_.stub().CompactGallery(&ctx, req, &resp).ok());
    EXPECT_EQ(GetGallery("faces").memory().mapped_bytes(), 5u * kDim * 4);
    grpc::ClientContext stats_ctx;
    v1::Stats stats;
    ASSERT_TRUE(server_.stub().GetStats(&stats_ctx, {}, &stats).ok());
    EXPECT_EQ(stats.memory().mapped_bytes(), 5u * kDim * 4);
  }

  grpc::ClientContext list_ctx;
  v1::ListGalleriesResponse list;
  ASSERT_TRUE(server_.stub().ListGalleries(&list_ctx, {}, &list).ok());
  ASSERT_EQ(list.galleries_size(), 1);

  grpc::ClientContext del_ctx;
  v1::DeleteGalleryRequest del;
  del.set_name("faces");
  v1::DeleteGalleryResponse del_resp;
  ASSERT_TRUE(server_.stub().DeleteGallery(&del_ctx, del, &del_resp).ok());
  grpc::ClientContext get_ctx;
  v1::GetGalleryRequest get;
  get.set_name("faces");
  v1::Gallery gone;
  EXPECT_EQ(server_.stub().GetGallery(&get_ctx, get, &gone).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, SearchEqualsBruteForce) {
  ASSERT_TRUE(CreateGallery("g").ok());
  const int rows = 300;
  std::vector<float> gallery = RandomRows(rows, kDim, 42);
  std::vector<uint64_t> ids = Enroll("g", gallery, rows, "subject-");
  ASSERT_EQ(ids.size(), size_t(rows));
  const int n = 40;
  std::vector<float> probes = RandomRows(n, kDim, 43);
  // A few probes are gallery rows scaled: they must find themselves.
  for (int p = 0; p < 5; ++p) {
    for (uint32_t c = 0; c < kDim; ++c) probes[p * kDim + c] = 3.0f * gallery[p * 7 * kDim + c];
  }
  for (float threshold : {-1.0f, 0.0f, 0.3f, 0.6f}) {
    grpc::ClientContext ctx;
    v1::SearchResponse resp;
    ASSERT_TRUE(server_.stub()
                    .Search(&ctx, SearchRequest("g", probes, n, threshold, 10), &resp)
                    .ok());
    ASSERT_EQ(resp.results_size(), n);
    for (int p = 0; p < n; ++p) {
      auto want = BruteForce(gallery, ids, probes.data() + p * kDim, kDim,
                             threshold, 10);
      const v1::ProbeResult& got = resp.results(p);
      ASSERT_EQ(got.candidates_size(), int(want.size())) << "probe " << p;
      for (size_t j = 0; j < want.size(); ++j) {
        EXPECT_EQ(got.candidates(j).entry_id(), want[j].id);
        EXPECT_NEAR(got.candidates(j).score(), want[j].score, 1e-5);
      }
    }
    for (int p = 0; p < 5; ++p) {
      ASSERT_GT(resp.results(p).candidates_size(), 0);
      EXPECT_EQ(resp.results(p).candidates(0).entry_id(), ids[p * 7]);
      EXPECT_EQ(resp.results(p).candidates(0).subject_id(),
                "subject-" + std::to_string(p * 7));
    }
  }
}

TEST_F(ServiceTest, RestartRestoresEnrollmentsAndRemovals) {
  ASSERT_TRUE(CreateGallery("g").ok());
  std::vector<float> gallery = RandomRows(50, kDim, 5);
  std::vector<uint64_t> ids = Enroll("g", gallery, 50, "s");
  grpc::ClientContext ctx;
  v1::RemoveRequest remove;
  remove.set_gallery("g");
  remove.mutable_entry_ids()->add_ids(ids[3]);
  remove.mutable_entry_ids()->add_ids(ids[9]);
  v1::RemoveResponse removed;
  ASSERT_TRUE(server_.stub().Remove(&ctx, remove, &removed).ok());
  const uint64_t version = GetGallery("g").version();

  server_.Restart();
  v1::Gallery g = GetGallery("g");
  EXPECT_EQ(g.size(), 48u);
  EXPECT_EQ(g.version(), version);
  grpc::ClientContext sctx;
  v1::SearchResponse resp;
  ASSERT_TRUE(server_.stub()
                  .Search(&sctx, SearchRequest("g", gallery, 50, 0.999f, 1), &resp)
                  .ok());
  for (int p = 0; p < 50; ++p) {
    if (p == 3 || p == 9) {
      // Its own vector is gone; nothing else is that close.
      EXPECT_EQ(resp.results(p).candidates_size(), 0);
    } else {
      ASSERT_EQ(resp.results(p).candidates_size(), 1);
      EXPECT_EQ(resp.results(p).candidates(0).entry_id(), ids[p]);
    }
  }
}

TEST_F(ServiceTest, IdempotentEnrollAppliesOnceAcrossRestart) {
  ASSERT_TRUE(CreateGallery("g").ok());
  v1::EnrollRequest req;
  req.set_gallery("g");
  req.set_request_id("batch-0001");
  *req.mutable_vectors() = PackRows(RandomRows(3, kDim, 8), 3, kDim);
  for (int i = 0; i < 3; ++i) req.add_subject_ids("s" + std::to_string(i));
  v1::EnrollResponse first, second, third;
  grpc::ClientContext c1, c2, c3;
  ASSERT_TRUE(server_.stub().Enroll(&c1, req, &first).ok());
  ASSERT_TRUE(server_.stub().Enroll(&c2, req, &second).ok());
  EXPECT_FALSE(first.replayed());
  EXPECT_TRUE(second.replayed());
  EXPECT_EQ(std::vector<uint64_t>(first.entry_ids().begin(), first.entry_ids().end()),
            std::vector<uint64_t>(second.entry_ids().begin(), second.entry_ids().end()));
  server_.Restart();
  ASSERT_TRUE(server_.stub().Enroll(&c3, req, &third).ok());
  EXPECT_TRUE(third.replayed());
  EXPECT_EQ(GetGallery("g").size(), 3u);
}

TEST_F(ServiceTest, SearchStreamAnswersInOrder) {
  ASSERT_TRUE(CreateGallery("g").ok());
  std::vector<float> gallery = RandomRows(20, kDim, 11);
  std::vector<uint64_t> ids = Enroll("g", gallery, 20, "s");
  grpc::ClientContext ctx;
  auto stream = server_.stub().SearchStream(&ctx);
  for (int i = 0; i < 20; ++i) {
    std::vector<float> probe(gallery.begin() + i * kDim,
                             gallery.begin() + (i + 1) * kDim);
    ASSERT_TRUE(stream->Write(SearchRequest("g", probe, 1, 0.99f, 1)));
  }
  stream->WritesDone();
  v1::SearchResponse resp;
  int i = 0;
  while (stream->Read(&resp)) {
    ASSERT_EQ(resp.results_size(), 1);
    ASSERT_EQ(resp.results(0).candidates_size(), 1);
    EXPECT_EQ(resp.results(0).candidates(0).entry_id(), ids[i]);
    ++i;
  }
  EXPECT_EQ(i, 20);
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ServiceTest, HealthServiceReportsServing) {
  // grpc.health.v1.Health/Check through a generic stub: the request
  // HealthCheckRequest{service: ""} is empty on the wire, and the answer
  // HealthCheckResponse{status: SERVING (1)} is field 1, varint 1.
  auto channel = grpc::CreateChannel(server_.address(),
                                     grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  grpc::ByteBuffer request, response;
  grpc::Slice empty;
  request = grpc::ByteBuffer(&empty, 1);
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response, [&](grpc::Status s) {
                   status = s;
                   done.Notify();
                 });
  done.WaitForNotification();
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

}  // namespace
}  // namespace candor::testing
