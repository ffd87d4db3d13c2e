// CreateGallery's precision against a real server: a bf16 gallery reports
// itself as such (also after a restart), answers Search exactly as an fp32
// gallery with the same entries, and shows in GetStats' memory per
// precision; an unknown precision is INVALID_ARGUMENT and creates nothing.
#include <chrono>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/api/test_server.h"

namespace candor::testing {
namespace {

constexpr int kDim = 96;
constexpr int kRows = 600;

grpc::ClientContext* Deadline(grpc::ClientContext* ctx) {
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return ctx;
}

grpc::Status Create(v1::Candor::Stub& stub, const std::string& name,
                    int precision, v1::Gallery* out) {
  grpc::ClientContext ctx;
  v1::CreateGalleryRequest req;
  req.set_name(name);
  req.set_dimension(kDim);
  req.set_precision(static_cast<v1::Precision>(precision));
  return stub.CreateGallery(Deadline(&ctx), req, out);
}

TEST(PrecisionApiTest, Bf16GalleryAnswersAsFp32AndReportsItself) {
  TestServer server;
  v1::Gallery g;
  ASSERT_TRUE(Create(server.stub(), "f", v1::PRECISION_UNSPECIFIED, &g).ok());
  EXPECT_EQ(g.precision(), v1::PRECISION_FP32);
  ASSERT_TRUE(Create(server.stub(), "b", v1::PRECISION_BF16, &g).ok());
  EXPECT_EQ(g.precision(), v1::PRECISION_BF16);
  EXPECT_EQ(g.backend(), "cpu-bf16");

  // Unknown value: refused, nothing created.
  grpc::Status bad = Create(server.stub(), "x", 7, &g);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("precision"), std::string::npos);
  {
    grpc::ClientContext ctx;
    v1::GetGalleryRequest req;
    req.set_name("x");
    EXPECT_EQ(server.stub().GetGallery(Deadline(&ctx), req, &g).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }

  const std::vector<float> rows = RandomUnitRows(kRows, kDim, 21u);
  // In requests of 60 rows (the test server takes at most 64).
  for (const char* name : {"f", "b"}) {
    for (int r0 = 0; r0 < kRows; r0 += 60) {
      grpc::ClientContext ctx;
      v1::EnrollRequest enroll;
      enroll.set_gallery(name);
      const std::vector<float> part(rows.begin() + r0 * kDim,
                                    rows.begin() + (r0 + 60) * kDim);
      *enroll.mutable_vectors() = PackRows(part, 60, kDim);
      for (int i = r0; i < r0 + 60; ++i) {
        enroll.add_subject_ids("s" + std::to_string(i));
      }
      v1::EnrollResponse resp;
      const grpc::Status s =
          server.stub().Enroll(Deadline(&ctx), enroll, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }

  auto search = [&](const std::string& name) {
    grpc::ClientContext ctx;
    v1::SearchRequest req;
    req.set_gallery(name);
    // Probes: some enrolled rows (their own entry scores about 1) and fresh
    // ones.
    std::vector<float> probes(rows.begin(), rows.begin() + 20 * kDim);
    const std::vector<float> fresh = RandomUnitRows(20, kDim, 22u);
    probes.insert(probes.end(), fresh.begin(), fresh.end());
    *req.mutable_probes() = PackRows(probes, 40, kDim);
    req.set_threshold(0.1f);
    req.set_top_k(7);
    v1::SearchResponse resp;
    EXPECT_TRUE(server.stub().Search(Deadline(&ctx), req, &resp).ok());
    return resp;
  };
  const v1::SearchResponse want = search("f");
  const v1::SearchResponse got = search("b");
  ASSERT_EQ(got.results_size(), want.results_size());
  int hits = 0;
  for (int p = 0; p < want.results_size(); ++p) {
    const auto& w = want.results(p).candidates();
    const auto& b = got.results(p).candidates();
    ASSERT_EQ(b.size(), w.size()) << "probe " << p;
    for (int j = 0; j < w.size(); ++j, ++hits) {
      EXPECT_EQ(b[j].entry_id(), w[j].entry_id()) << "probe " << p;
      EXPECT_EQ(b[j].subject_id(), w[j].subject_id()) << "probe " << p;
      EXPECT_EQ(b[j].score(), w[j].score()) << "probe " << p;
    }
  }
  EXPECT_GT(hits, 40);

  {
    grpc::ClientContext ctx;
    v1::Stats stats;
    ASSERT_TRUE(server.stub()
                    .GetStats(Deadline(&ctx), v1::GetStatsRequest(), &stats)
                    .ok());
    ASSERT_EQ(stats.memory_by_precision_size(), 2);
    const v1::PrecisionMemory& fp32 = stats.memory_by_precision(0);
    const v1::PrecisionMemory& bf16 = stats.memory_by_precision(1);
    EXPECT_EQ(fp32.precision(), v1::PRECISION_FP32);
    EXPECT_EQ(bf16.precision(), v1::PRECISION_BF16);
    EXPECT_EQ(fp32.entries(), uint64_t{kRows});
    EXPECT_EQ(bf16.entries(), uint64_t{kRows});
    // The index's vectors in half the bytes: 2 bytes per dimension saved.
    EXPECT_LT(bf16.host_bytes_per_entry(),
              fp32.host_bytes_per_entry() - 1.5 * kDim);
  }

  server.Restart();
  grpc::ClientContext ctx;
  v1::GetGalleryRequest req;
  req.set_name("b");
  ASSERT_TRUE(server.stub().GetGallery(Deadline(&ctx), req, &g).ok());
  EXPECT_EQ(g.precision(), v1::PRECISION_BF16);
  EXPECT_EQ(g.size(), uint64_t{kRows});
  const v1::SearchResponse again = search("b");
  ASSERT_EQ(again.results_size(), want.results_size());
  for (int p = 0; p < want.results_size(); ++p) {
    ASSERT_EQ(again.results(p).candidates_size(),
              want.results(p).candidates_size());
    for (int j = 0; j < want.results(p).candidates_size(); ++j) {
      EXPECT_EQ(again.results(p).candidates(j).score(),
                want.results(p).candidates(j).score());
    }
  }
}

}  // namespace
}  // namespace candor::testing
