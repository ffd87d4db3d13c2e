// LoadDriver against an in-process fake Candor service on a loopback port:
// counts, stop conditions, concurrency bound and errors by code.
#include "bench/load/load_driver.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/load/probe_source.h"
#include "gtest/gtest.h"

namespace candor::load {
namespace {

// Answers every third Search with UNAVAILABLE, the rest with an empty OK
// response, and tracks how many calls it held at once.
class FakeCandor final : public v1::Candor::CallbackService {
 public:
  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* context,
                                   const v1::SearchRequest* request,
                                   v1::SearchResponse* response) override {
    const int now_active = active_.fetch_add(1) + 1;
    int seen = max_active_.load();
    while (now_active > seen &&
           !max_active_.compare_exchange_weak(seen, now_active)) {
    }
    const int n = calls_.fetch_add(1) + 1;
    probes_.fetch_add(request->probes().rows());
    active_.fetch_sub(1);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(n % 3 == 0
                        ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "busy")
                        : grpc::Status::OK);
    return reactor;
  }
  int calls() const { return calls_.load(); }
  int max_active() const { return max_active_.load(); }
  int64_t probes() const { return probes_.load(); }

 private:
  std::atomic<int> calls_{0};
  std::atomic<int> active_{0};
  std::atomic<int> max_active_{0};
  std::atomic<int64_t> probes_{0};
};

class LoadDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Candor::NewStub(channel_);
    ProbeSpec spec{"g", 8, 3, 4, 1, ""};
    auto requests = BuildRequests(spec, SearchOptions{});
    ASSERT_TRUE(requests.ok()) << requests.status();
    requests_ = *std::move(requests);
  }
  void TearDown() override { server_->Shutdown(); }

  RunTotals RunPlan(const LoadPlan& plan, LatencyRecorder* recorder,
                    int* progress_calls) {
    LoadDriver driver(stub_.get(), &requests_, plan, recorder);
    return driver.Run([progress_calls](const Progress&) { ++*progress_calls; });
  }

  FakeCandor service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Candor::Stub> stub_;
  std::vector<v1::SearchRequest> requests_;
};

TEST_F(LoadDriverTest, ClosedLoopSendsTheCountWithinTheConcurrency) {
  LoadPlan plan;
  plan.concurrency = 4;
  plan.max_requests = 30;
  plan.duration = absl::Hours(1);
  LatencyRecorder recorder;
  int progress_calls = 0;
  const RunTotals totals = RunPlan(plan, &recorder, &progress_calls);
  EXPECT_EQ(totals.sent, 30);
  EXPECT_EQ(service_.calls(), 30);
  EXPECT_EQ(service_.probes(), 30 * 3);
  EXPECT_LE(service_.max_active(), 4);
  const LatencySummary summary = recorder.Summarize();
  EXPECT_EQ(summary.ok, 20);
  ASSERT_EQ(summary.errors.size(), 1u);
  EXPECT_EQ(summary.errors.at("UNAVAILABLE"), 10);
  EXPECT_GE(progress_calls, 1);
  EXPECT_GT(summary.p50_us, 0);
  EXPECT_LE(summary.p50_us, summary.p99_us);
}

TEST_F(LoadDriverTest, OpenLoopSendsTheCountOnSchedule) {
  LoadPlan plan;
  plan.mode = LoopMode::kOpen;
  plan.rate_rps = 2000;
  plan.max_requests = 12;
  plan.duration = absl::Hours(1);
  LatencyRecorder recorder;
  int progress_calls = 0;
  const RunTotals totals = RunPlan(plan, &recorder, &progress_calls);
  EXPECT_EQ(totals.sent, 12);
  EXPECT_EQ(totals.skipped, 0);
  EXPECT_EQ(recorder.completed(), 12);
  EXPECT_EQ(recorder.failed(), 4);
}

TEST_F(LoadDriverTest, StopsByItselfWhenTheDurationEnds) {
  LoadPlan plan;
  plan.concurrency = 2;
  plan.duration = absl::Milliseconds(300);
  LatencyRecorder recorder;
  int progress_calls = 0;
  const RunTotals totals = RunPlan(plan, &recorder, &progress_calls);
  EXPECT_GT(totals.sent, 0);
  // Every call sent was answered before Run returned.
  EXPECT_EQ(recorder.completed(), totals.sent);
  EXPECT_EQ(service_.calls(), totals.sent);
}

}  // namespace
}  // namespace candor::load
