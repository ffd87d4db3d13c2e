// candor::Client's own logic, without a server: status mapping, request
// building, and the checks made before anything is sent.
#include "clients/cpp/client.h"

#include <grpcpp/support/status.h>

#include "clients/cpp/grpc_status.h"
#include "clients/cpp/matrix.h"
#include "gmock/gmock.h"
#include "google/rpc/status_error_info.pb.h"
#include "gtest/gtest.h"

namespace candor {
namespace {

using ::testing::HasSubstr;

TEST(GrpcStatusTest, KeepsCodeAndMessage) {
  EXPECT_TRUE(ToAbslStatus(grpc::Status::OK).ok());
  const absl::Status s = ToAbslStatus(grpc::Status(
      grpc::StatusCode::FAILED_PRECONDITION, "FPIR 0.02 > max 0.01"));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "FPIR 0.02 > max 0.01");
  EXPECT_EQ(ToAbslStatus(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, ""))
                .code(),
            absl::StatusCode::kResourceExhausted);
}

// A policy rejection is told from other FAILED_PRECONDITIONs only by its
// ErrorInfo, which must survive the mapping.
TEST(GrpcStatusTest, KeepsTheErrorInfoReason) {
  google::rpc::ErrorInfo info;
  info.set_reason("POLICY_REJECT");
  info.set_domain("candor.dev");
  google::rpc::Status details;
  details.set_code(grpc::StatusCode::FAILED_PRECONDITION);
  details.set_message("FPIR 0.02 > max 0.01");
  details.add_details()->PackFrom(info);
  const absl::Status s = ToAbslStatus(
      grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                   "FPIR 0.02 > max 0.01", details.SerializeAsString()));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(s), kPolicyRejectReason);
  EXPECT_EQ(ErrorReason(ToAbslStatus(grpc::Status(
                grpc::StatusCode::FAILED_PRECONDITION, "no calibration"))),
            "");
  EXPECT_EQ(ErrorReason(absl::OkStatus()), "");
}

TEST(ClientTest, BuildSearchRequestCarriesEveryOption) {
  const std::vector<float> probes = {1, 0, 0, 1};
  SearchOptions options;
  options.threshold = 0.4f;
  options.top_k = 7;
  options.groups = {"A", "B"};
  options.refs = {"r0", "r1"};
  options.purpose = "case 12";
  options.omit_report = true;
  options.nprobe = 3;
  absl::StatusOr<v1::SearchRequest> request =
      Client::BuildSearchRequest("g", probes, 2, 2, options);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->gallery(), "g");
  ASSERT_TRUE(request->has_threshold());
  EXPECT_FLOAT_EQ(request->threshold(), 0.4f);
  EXPECT_EQ(request->top_k(), 7u);
  ASSERT_EQ(request->probe_info_size(), 2);
  EXPECT_EQ(request->probe_info(1).group(), "B");
  EXPECT_EQ(request->probe_info(1).ref(), "r1");
  EXPECT_EQ(request->purpose(), "case 12");
  EXPECT_TRUE(request->omit_report());
  EXPECT_EQ(request->nprobe(), 3u);
  absl::StatusOr<std::vector<float>> unpacked =
      UnpackMatrix(request->probes(), 2);
  ASSERT_TRUE(unpacked.ok());
  EXPECT_EQ(*unpacked, probes);
}

TEST(ClientTest, UnsetThresholdStaysUnset) {
  absl::StatusOr<v1::SearchRequest> request = Client::BuildSearchRequest(
      "g", std::vector<float>{1, 2}, 1, 2, SearchOptions());
  ASSERT_TRUE(request.ok());
  EXPECT_FALSE(request->has_threshold());
  EXPECT_EQ(request->probe_info_size(), 0);
}

TEST(ClientTest, BuildSearchRequestRefusesMismatchedLabels) {
  SearchOptions options;
  options.groups = {"A"};
  absl::StatusOr<v1::SearchRequest> request = Client::BuildSearchRequest(
      "g", std::vector<float>{1, 2, 3, 4}, 2, 2, options);
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(request.status().message()),
              HasSubstr("1 probe groups"));
}

// Nothing listens on port 1 of the loopback; these calls must fail on
// their arguments before they try to connect.
TEST(ClientTest, EnrollChecksRowsBeforeSending) {
  Client client("127.0.0.1:1", absl::Seconds(5));
  const std::vector<float> vectors = {1, 2, 3, 4};
  const std::vector<std::string> one_subject = {"s"};
  absl::StatusOr<std::vector<uint64_t>> ids =
      client.Enroll("g", vectors, 2, 2, one_subject);
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ids.status().message()),
              HasSubstr("1 subject ids for 2 rows"));

  const std::vector<std::string> two_subjects = {"s", "t"};
  absl::StatusOr<std::vector<uint64_t>> short_vectors =
      client.Enroll("g", vectors, 2, 3, two_subjects);
  ASSERT_FALSE(short_vectors.ok());
  EXPECT_EQ(short_vectors.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClientTest, UnreachableServerIsUnavailable) {
  Client client("127.0.0.1:1", absl::Seconds(5));
  absl::StatusOr<v1::Stats> stats = client.GetStats();
  ASSERT_FALSE(stats.ok());
  EXPECT_THAT(stats.status().code(),
              ::testing::AnyOf(absl::StatusCode::kUnavailable,
                               absl::StatusCode::kDeadlineExceeded));
}

}  // namespace
}  // namespace candor
