// The whole server on candor's GPU backend against the same server on the
// CPU backend, through gRPC. On the GPU backend the search handler only
// checks the probes; the CUDA kernel normalizes them on the device. So the
// probes here arrive at scales from 1e-2 to 1e2, and both servers must give
// the same candidates (up to fp16 tolerance at the boundary) and the same
// errors for rows that cannot be normalized.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/api/test_server.h"
#include "tests/gpu/gpu_test_util.h"

namespace candor::testing {
namespace {

constexpr int kDim = 64;
constexpr int kRows = 2000;
constexpr int kProbes = 48;
constexpr float kThreshold = 0.2f;
constexpr int kTopK = 10;
// fp16 gallery and probes: each unit-vector component rounds with relative
// error <= 2^-11, so a cosine moves by about 1e-3 at most.
constexpr double kTolerance = 2e-3;

grpc::Status CreateAndEnroll(TestServer& server,
                             const std::vector<float>& rows) {
  grpc::ClientContext create_context;
  v1::CreateGalleryRequest create;
  create.set_name("g");
  create.set_dimension(kDim);
  v1::Gallery gallery;
  grpc::Status status =
      server.stub().CreateGallery(&create_context, create, &gallery);
  if (!status.ok()) return status;
  // The test server accepts 64 rows per request.
  for (int first = 0; first < kRows; first += 50) {
    const int n = std::min(50, kRows - first);
    grpc::ClientContext context;
    v1::EnrollRequest enroll;
    enroll.set_gallery("g");
    *enroll.mutable_vectors() =
        PackRows(std::vector<float>(rows.begin() + first * kDim,
                                    rows.begin() + (first + n) * kDim),
                 n, kDim);
    for (int i = first; i < first + n; ++i) {
      enroll.add_subject_ids("s" + std::to_string(i));
    }
    v1::EnrollResponse response;
    status = server.stub().Enroll(&context, enroll, &response);
    if (!status.ok()) return status;
  }
  return grpc::Status::OK;
}

std::string Backend(TestServer& server) {
  grpc::ClientContext context;
  v1::GetGalleryRequest request;
  request.set_name("g");
  v1::Gallery gallery;
  grpc::Status status = server.stub().GetGallery(&context, request, &gallery);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return gallery.backend();
}

grpc::Status Search(TestServer& server, const std::vector<float>& probes,
                    v1::SearchResponse* response) {
  grpc::ClientContext context;
  v1::SearchRequest request;
  request.set_gallery("g");
  *request.mutable_probes() = PackRows(probes, kProbes, kDim);
  request.set_threshold(kThreshold);
  request.set_top_k(kTopK);
  return server.stub().Search(&context, request, response);
}

// One probe's answers agree: every CPU candidate clear of the boundary (the
// threshold, or the k-th score of a full list) is a GPU candidate at the
// same score within tolerance, and every GPU candidate is a CPU one at the
// same score, or lies within tolerance of that boundary.
void ExpectSameCandidates(const v1::ProbeResult& cpu,
                          const v1::ProbeResult& gpu) {
  SCOPED_TRACE(::testing::Message() << "probe " << cpu.probe_index());
  absl::flat_hash_map<std::string, double> cpu_scores, gpu_scores;
  for (const v1::Candidate& c : cpu.candidates()) {
    cpu_scores[c.subject_id()] = c.score();
  }
  for (const v1::Candidate& c : gpu.candidates()) {
    gpu_scores[c.subject_id()] = c.score();
  }
  const double boundary = cpu.candidates_size() == kTopK
                              ? cpu.candidates(kTopK - 1).score()
                              : kThreshold;
  for (const auto& [subject, score] : cpu_scores) {
    if (score <= boundary + kTolerance) continue;
    auto it = gpu_scores.find(subject);
    ASSERT_NE(it, gpu_scores.end()) << subject << " at " << score;
    EXPECT_NEAR(it->second, score, kTolerance) << subject;
  }
  for (const auto& [subject, score] : gpu_scores) {
    EXPECT_GE(score, kThreshold) << subject;
    auto it = cpu_scores.find(subject);
    if (it != cpu_scores.end()) {
      EXPECT_NEAR(score, it->second, kTolerance) << subject;
    } else {
      EXPECT_LE(score, boundary + kTolerance) << subject;
    }
  }
}

class ServerGpuTest : public GpuTest {};

TEST_F(ServerGpuTest, GpuBackendAnswersAsTheCpuBackendDoes) {
  api::ServerOptions gpu_options = TestServer::DefaultOptions();
  gpu_options.backend = index::Backend::kGpu;
  TestServer gpu(gpu_options);
  TestServer cpu;
  const std::vector<float> rows = RandomRows(kRows, kDim, 11);
  ASSERT_TRUE(CreateAndEnroll(gpu, rows).ok());
  ASSERT_TRUE(CreateAndEnroll(cpu, rows).ok());
  ASSERT_EQ(Backend(gpu), "gpu");
  ASSERT_EQ(Backend(cpu), "cpu-flat");

  // Even probes: noisy copies of enrolled rows (many candidates above the
  // threshold); odd ones: random. Row p is scaled by 10^(p % 5 - 2).
  std::vector<float> probes = RandomRows(kProbes, kDim, 12);
  std::mt19937_64 rng(13);
  std::uniform_int_distribution<int> pick(0, kRows - 1);
  for (int p = 0; p < kProbes; ++p) {
    const int r = pick(rng);
    const float scale = std::pow(10.0f, static_cast<float>(p % 5 - 2));
    for (int d = 0; d < kDim; ++d) {
      float& x = probes[p * kDim + d];
      if (p % 2 == 0) x = rows[r * kDim + d] + 0.3f * x;
      x *= scale;
    }
  }
  v1::SearchResponse gpu_answer, cpu_answer;
  grpc::Status s = Search(gpu, probes, &gpu_answer);
  ASSERT_TRUE(s.ok()) << s.error_message();
  s = Search(cpu, probes, &cpu_answer);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(gpu_answer.backend(), "gpu");
  ASSERT_EQ(gpu_answer.results_size(), kProbes);
  ASSERT_EQ(cpu_answer.results_size(), kProbes);
  int mated_with_hits = 0;
  for (int p = 0; p < kProbes; ++p) {
    ExpectSameCandidates(cpu_answer.results(p), gpu_answer.results(p));
    if (p % 2 == 0 && cpu_answer.results(p).candidates_size() > 0) {
      ++mated_with_hits;
    }
  }
  // The comparison had candidates to compare.
  EXPECT_EQ(mated_with_hits, kProbes / 2);

  // Rows that cannot be normalized: the same INVALID_ARGUMENT, naming the
  // same row, on both backends.
  for (float bad : {0.0f, std::numeric_limits<float>::quiet_NaN()}) {
    std::vector<float> broken = probes;
    for (int d = 0; d < kDim; ++d) {
      if (bad == 0.0f || d == 7) broken[37 * kDim + d] = bad;
    }
    v1::SearchResponse ignored;
    const grpc::Status on_gpu = Search(gpu, broken, &ignored);
    const grpc::Status on_cpu = Search(cpu, broken, &ignored);
    EXPECT_EQ(on_gpu.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(on_gpu.error_code(), on_cpu.error_code());
    EXPECT_EQ(on_gpu.error_message(), on_cpu.error_message());
    EXPECT_NE(on_gpu.error_message().find("row 37"), std::string::npos)
        << on_gpu.error_message();
  }
}

}  // namespace
}  // namespace candor::testing
