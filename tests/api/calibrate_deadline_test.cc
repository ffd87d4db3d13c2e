// Calibrate honours the caller: a short deadline or a cancellation stops
// the server's calibration searches early, stores no calibration, and the
// audit log and /metrics record the call as DEADLINE_EXCEEDED / CANCELLED
// (not as an OK call that kept the server busy for the full run).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/api/test_server.h"
#include "tests/lib/loopback_http.h"

namespace candor::testing {
namespace {

using ::grpc::StatusCode;
using ::testing::HasSubstr;

constexpr int kDim = 128;
constexpr int kGallery = 32768;
// Large enough that the full run takes well over a second on an idle
// 2-core machine (about 1.9 s), so the early stops below are measurable.
constexpr int kProbes = 32768;
constexpr int kEnrollBatch = 4096;

class CalibrateDeadlineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api::ServerOptions options = TestServer::DefaultOptions();
    options.limits.max_batch = kEnrollBatch;
    options.limits.max_message_bytes = 64 << 20;
    metrics_port_ = FreeLoopbackPort();
    ASSERT_GT(metrics_port_, 0);
    options.metrics_listen = absl::StrCat("127.0.0.1:", metrics_port_);
    server_ = std::make_unique<TestServer>(options);

    grpc::ClientContext create_ctx;
    v1::CreateGalleryRequest create;
    create.set_name("g");
    create.set_dimension(kDim);
    v1::Gallery created;
    ASSERT_TRUE(server_->stub().CreateGallery(&create_ctx, create, &created).ok());
    for (int first = 0; first < kGallery; first += kEnrollBatch) {
      const std::vector<float> rows = RandomRows(kEnrollBatch, kDim, 100 + first);
      v1::EnrollRequest enroll;
      enroll.set_gallery("g");
      *enroll.mutable_vectors() = PackRows(rows, kEnrollBatch, kDim);
      for (int i = 0; i < kEnrollBatch; ++i) {
        enroll.add_subject_ids(absl::StrCat("s", first + i));
        enroll.add_groups(i % 2 == 0 ? "A" : "B");
      }
      grpc::ClientContext ctx;
      v1::EnrollResponse response;
      grpc::Status s = server_->stub().Enroll(&ctx, enroll, &response);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    request_.set_gallery("g");
    *request_.mutable_labeled()->mutable_nonmated() =
        PackRows(RandomRows(kProbes, kDim, 7), kProbes, kDim);
  }


  // Waits (bounded) for the n-th Calibrate audit record; its server-side
  // duration, or a negative one when it never came.
  absl::Duration WaitForRecord(size_t n, nlohmann::json* record) {
    for (int i = 0; i < 600; ++i) {
      std::vector<nlohmann::json> records =
          ReadAuditRecords(server_->data_dir(), "Calibrate");
      if (records.size() >= n) {
        *record = records[n - 1];
        absl::Time start, end;
        std::string error;
        if (!absl::ParseTime(absl::RFC3339_full, record->value("start_time", ""),
                             &start, &error) ||
            !absl::ParseTime(absl::RFC3339_full, record->value("end_time", ""),
                             &end, &error)) {
          ADD_FAILURE() << "unparsable times in " << record->dump();
          return -absl::Seconds(1);
        }
        return end - start;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return -absl::Seconds(1);
  }

  int metrics_port_ = 0;
  std::unique_ptr<TestServer> server_;
  v1::CalibrateRequest request_;
};

TEST_F(CalibrateDeadlineTest, ShortDeadlineOrCancelStopsTheServerEarly) {
  // 1. A client deadline of 200 ms.
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(200));
    v1::CalibrationReport report;
    grpc::Status s = server_->stub().Calibrate(&ctx, request_, &report);
    EXPECT_EQ(s.error_code(), StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  }
  nlohmann::json expired;
  const absl::Duration expired_took = WaitForRecord(1, &expired);
  ASSERT_GE(expired_took, absl::ZeroDuration()) << "no Calibrate audit record";
  EXPECT_EQ(expired.value("status_code", ""), "DEADLINE_EXCEEDED") << expired.dump();

  // 2. A client that cancels after 200 ms.
  {
    grpc::ClientContext ctx;
    std::thread canceller([&ctx] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      ctx.TryCancel();
    });
    v1::CalibrationReport report;
    grpc::Status s = server_->stub().Calibrate(&ctx, request_, &report);
    canceller.join();
    EXPECT_EQ(s.error_code(), StatusCode::CANCELLED) << s.error_message();
  }
  nlohmann::json cancelled;
  const absl::Duration cancelled_took = WaitForRecord(2, &cancelled);
  ASSERT_GE(cancelled_took, absl::ZeroDuration()) << "no second audit record";
  EXPECT_EQ(cancelled.value("status_code", ""), "CANCELLED") << cancelled.dump();

  // Neither stored a calibration.
  {
    grpc::ClientContext ctx;
    v1::GetCalibrationRequest get;
    get.set_gallery("g");
    v1::CalibrationReport report;
    EXPECT_EQ(server_->stub().GetCalibration(&ctx, get, &report).error_code(),
              StatusCode::FAILED_PRECONDITION);
  }

  // 3. The full run, for scale.
  const absl::Time full_start = absl::Now();
  {
    grpc::ClientContext ctx;
    v1::CalibrationReport report;
    grpc::Status s = server_->stub().Calibrate(&ctx, request_, &report);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  const absl::Duration full = absl::Now() - full_start;
  // The comparison means something only when the full run is long.
  ASSERT_GT(full, absl::Seconds(1)) << "the calibration set is too small";
  EXPECT_LT(expired_took, full / 3) << "server kept calibrating after the deadline";
  EXPECT_LT(cancelled_took, full / 3) << "server kept calibrating after the cancel";

  const std::string metrics = LoopbackHttpGet(metrics_port_, "/metrics");
  EXPECT_THAT(metrics, HasSubstr("candor_requests_total{code=\"DEADLINE_EXCEEDED\","
                                 "rpc=\"Calibrate\"} 1"));
  EXPECT_THAT(metrics,
              HasSubstr("candor_requests_total{code=\"CANCELLED\",rpc=\"Calibrate\"} 1"));
  EXPECT_THAT(metrics,
              HasSubstr("candor_requests_total{code=\"OK\",rpc=\"Calibrate\"} 1"));
}

}  // namespace
}  // namespace candor::testing
