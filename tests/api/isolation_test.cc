// Blocking work does not hold up the calls that must always answer: while
// 32 Calibrate and 32 CompactGallery calls run (searches, fsyncs,
// snapshot writes), health checks and GetStats, each on a new channel,
// answer within 100 ms (nine in ten of them: the machine running the test
// may be loaded), and none waits anywhere near as long as that work runs
// (seconds). Before the server moved that work onto executors of its own it
// ran on gRPC's callback threads, and a health check waited 6 s behind it.
// Bounded: 64 calls with a 120 s deadline, and the prober stops with them.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/api/test_server.h"

namespace candor::testing {
namespace {

constexpr int kDim = 128;
constexpr int kGallery = 16384;
constexpr int kEnrollBatch = 4096;
constexpr int kCalibrationProbes = 2048;
constexpr int kCalibrations = 32;
constexpr int kCompactions = 32;
// What nine in ten health checks and GetStats calls must answer within.
constexpr absl::Duration kAnswerWithin = absl::Milliseconds(100);
// What every one must answer within: far above what a call costs even on a
// loaded 2-core machine (tens of ms), far below what waiting behind the
// blocking calls costs (they run for seconds).
constexpr absl::Duration kNeverWaitsBehind = absl::Seconds(1);

// The q-quantile (0..1) of `d`, which is not empty.
absl::Duration Quantile(std::vector<absl::Duration> d, double q) {
  std::sort(d.begin(), d.end());
  return d[static_cast<size_t>(q * (d.size() - 1))];
}

std::chrono::system_clock::time_point In(absl::Duration d) {
  return absl::ToChronoTime(absl::Now() + d);
}

// grpc.health.v1.Health/Check on a channel of its own; how long it took.
absl::Duration HealthCheck(const std::string& address, grpc::Status* status) {
  const absl::Time start = absl::Now();
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(In(absl::Seconds(60)));
  grpc::Slice empty;
  grpc::ByteBuffer request(&empty, 1), response;
  absl::Notification done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response, [&](grpc::Status s) {
                   *status = s;
                   done.Notify();
                 });
  done.WaitForNotification();
  return absl::Now() - start;
}

class IsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api::ServerOptions options = TestServer::DefaultOptions();
    options.limits.max_batch = kEnrollBatch;
    options.limits.max_message_bytes = 64 << 20;
    server_ = std::make_unique<TestServer>(options);
    grpc::ClientContext create_ctx;
    v1::CreateGalleryRequest create;
    create.set_name("g");
    create.set_dimension(kDim);
    v1::Gallery created;
    ASSERT_TRUE(
        server_->stub().CreateGallery(&create_ctx, create, &created).ok());
    for (int first = 0; first < kGallery; first += kEnrollBatch) {
      v1::EnrollRequest enroll;
      enroll.set_gallery("g");
      *enroll.mutable_vectors() = PackRows(
          RandomRows(kEnrollBatch, kDim, 100 + first), kEnrollBatch, kDim);
      for (int i = 0; i < kEnrollBatch; ++i) {
        enroll.add_subject_ids(absl::StrCat("s", first + i));
        enroll.add_groups(i % 2 == 0 ? "A" : "B");
      }
      grpc::ClientContext ctx;
      v1::EnrollResponse response;
      grpc::Status s = server_->stub().Enroll(&ctx, enroll, &response);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    calibrate_.set_gallery("g");
    *calibrate_.mutable_labeled()->mutable_nonmated() = PackRows(
        RandomRows(kCalibrationProbes, kDim, 7), kCalibrationProbes, kDim);
  }

  std::unique_ptr<TestServer> server_;
  v1::CalibrateRequest calibrate_;
};

TEST_F(IsolationTest, HealthAndStatsAnswerWhileBlockingCallsRun) {
  std::atomic<int> running{kCalibrations + kCompactions};
  std::atomic<int> failed{0};
  std::vector<std::thread> load;
  for (int i = 0; i < kCalibrations + kCompactions; ++i) {
    load.emplace_back([&, i] {
      grpc::ClientContext ctx;
      ctx.set_deadline(In(absl::Seconds(120)));
      grpc::Status s;
      if (i % 2 == 0) {
        v1::CalibrationReport report;
        s = server_->stub().Calibrate(&ctx, calibrate_, &report);
      } else {
        v1::CompactGalleryRequest compact;
        compact.set_name("g");
        v1::CompactGalleryResponse response;
        s = server_->stub().CompactGallery(&ctx, compact, &response);
      }
      if (!s.ok()) {
        ADD_FAILURE() << (i % 2 == 0 ? "Calibrate: " : "CompactGallery: ")
                      << s.error_code() << " " << s.error_message();
        ++failed;
      }
      --running;
    });
  }

  // Give the load a moment to occupy whatever threads it takes.
  absl::SleepFor(absl::Milliseconds(200));
  std::vector<absl::Duration> health_times, stats_times;
  int probes = 0;
  const absl::Time load_start = absl::Now();
  while (running.load() > 0 && probes < 2000) {
    grpc::Status health;
    health_times.push_back(HealthCheck(server_->address(), &health));
    ASSERT_TRUE(health.ok()) << health.error_message();

    const absl::Time stats_start = absl::Now();
    auto channel = grpc::CreateChannel(server_->address(),
                                       grpc::InsecureChannelCredentials());
    auto stub = v1::Candor::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(In(absl::Seconds(60)));
    v1::Stats stats;
    grpc::Status s = stub->GetStats(&ctx, v1::GetStatsRequest(), &stats);
    stats_times.push_back(absl::Now() - stats_start);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ++probes;
    absl::SleepFor(absl::Milliseconds(20));
  }
  const bool load_was_running = running.load() > 0 || probes > 1;
  for (std::thread& t : load) t.join();
  const absl::Duration load_time = absl::Now() - load_start;
  EXPECT_EQ(failed.load(), 0);
  const absl::Duration worst_health = Quantile(health_times, 1.0);
  const absl::Duration worst_stats = Quantile(stats_times, 1.0);
  const absl::Duration p90_health = Quantile(health_times, 0.9);
  const absl::Duration p90_stats = Quantile(stats_times, 0.9);
  std::printf(
      "[ figures ] %d Calibrate + %d CompactGallery calls ran %.2f s "
      "after the first probe; %d probes, each on a new channel: health check "
      "p90 %.1f ms, worst %.1f ms; GetStats p90 %.1f ms, worst %.1f ms\n",
      kCalibrations, kCompactions, absl::ToDoubleSeconds(load_time), probes,
      absl::ToDoubleMilliseconds(p90_health),
      absl::ToDoubleMilliseconds(worst_health),
      absl::ToDoubleMilliseconds(p90_stats),
      absl::ToDoubleMilliseconds(worst_stats));
  ASSERT_TRUE(load_was_running) << "the load ended before it was probed";
  EXPECT_LT(p90_health, kAnswerWithin);
  EXPECT_LT(p90_stats, kAnswerWithin);
  EXPECT_LT(worst_health, kNeverWaitsBehind);
  EXPECT_LT(worst_stats, kNeverWaitsBehind);
}

// The executors' queue is bounded: with one maintenance thread and no
// queue, of two calibrations sent together (each runs for a second or
// more) one runs and the other is refused at once, RESOURCE_EXHAUSTED
// naming the flag to raise.
TEST(IsolationLimits, AFullMaintenanceQueueRefusesWithResourceExhausted) {
  api::ServerOptions options = TestServer::DefaultOptions();
  options.limits.max_batch = kEnrollBatch;
  options.limits.max_message_bytes = 64 << 20;
  options.blocking.maintenance_threads = 1;
  options.blocking.max_queue = 0;
  TestServer server(options);
  grpc::ClientContext create_ctx;
  v1::CreateGalleryRequest create;
  create.set_name("g");
  create.set_dimension(kDim);
  v1::Gallery created;
  ASSERT_TRUE(server.stub().CreateGallery(&create_ctx, create, &created).ok());
  for (int first = 0; first < 2 * kEnrollBatch; first += kEnrollBatch) {
    v1::EnrollRequest enroll;
    enroll.set_gallery("g");
    *enroll.mutable_vectors() = PackRows(
        RandomRows(kEnrollBatch, kDim, 100 + first), kEnrollBatch, kDim);
    for (int i = 0; i < kEnrollBatch; ++i) {
      enroll.add_subject_ids(absl::StrCat("s", first + i));
    }
    grpc::ClientContext ctx;
    v1::EnrollResponse response;
    ASSERT_TRUE(server.stub().Enroll(&ctx, enroll, &response).ok());
  }
  constexpr int kProbes = 16384;
  v1::CalibrateRequest calibrate;
  calibrate.set_gallery("g");
  *calibrate.mutable_labeled()->mutable_nonmated() =
      PackRows(RandomRows(kProbes, kDim, 7), kProbes, kDim);
  grpc::Status results[2];
  std::vector<std::thread> calls;
  for (int i = 0; i < 2; ++i) {
    calls.emplace_back([&, i] {
      grpc::ClientContext ctx;
      ctx.set_deadline(In(absl::Seconds(120)));
      v1::CalibrationReport report;
      results[i] = server.stub().Calibrate(&ctx, calibrate, &report);
    });
  }
  for (std::thread& t : calls) t.join();
  const int refused = results[0].ok() ? 1 : 0;
  ASSERT_TRUE(results[refused].ok() != results[1 - refused].ok())
      << results[0].error_message() << " / " << results[1].error_message();
  EXPECT_EQ(results[refused].error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << results[refused].error_message();
  EXPECT_THAT(results[refused].error_message(),
              ::testing::HasSubstr("--maintenance_threads"));
}

}  // namespace
}  // namespace candor::testing
