#include "server/telemetry/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace candor::telemetry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, TextHasTheSeriesAfterUpdates) {
  absl::StatusOr<std::unique_ptr<Metrics>> m = Metrics::Create({});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->http_port(), 0);
  Metrics& metrics = **m;
  metrics.CountRequest("Search", absl::StatusCode::kOk);
  metrics.CountRequest("Search", absl::StatusCode::kOk);
  metrics.CountRequest("Search", absl::StatusCode::kFailedPrecondition);
  metrics.CountProbes("faces", 256);
  metrics.CountCandidates("faces", "B", 7);
  metrics.ObserveLatency(Metrics::Stage::kSearch, 0.003);
  metrics.ObserveLatency(Metrics::Stage::kTotal, 0.004);
  metrics.ObserveThreshold(0.42f);
  metrics.CountVerdict(VerdictOutcome::kWarn);
  metrics.SetPolicyFpir("faces", "A", 0.0123);
  metrics.SetBackendInfo("faiss-cpu", "");
  metrics.SetBackendInfo("gpu", "H100");

  const std::string text = metrics.RenderText();
  EXPECT_THAT(text, HasSubstr("candor_requests_total{code=\"OK\",rpc=\"Search\"} 2"));
  EXPECT_THAT(text, HasSubstr(
      "candor_requests_total{code=\"FAILED_PRECONDITION\",rpc=\"Search\"} 1"));
  EXPECT_THAT(text, HasSubstr("candor_probes_total{gallery=\"faces\"} 256"));
  EXPECT_THAT(text, HasSubstr("candor_candidates_total{gallery=\"faces\",group=\"B\"} 7"));
  // 3 ms lands in the 3.2 ms bucket (50 us * 2^6) and above, not below.
  EXPECT_THAT(text, HasSubstr(
      "candor_stage_latency_seconds_bucket{stage=\"search\",le=\"0.0032\"} 1"));
  EXPECT_THAT(text, HasSubstr(
      "candor_stage_latency_seconds_bucket{stage=\"search\",le=\"0.0016\"} 0"));
  EXPECT_THAT(text, HasSubstr("candor_stage_latency_seconds_count{stage=\"queue\"} 0"));
  EXPECT_THAT(text, HasSubstr("candor_requested_threshold_bucket{le=\"0.4\"} 0"));
  EXPECT_THAT(text, HasSubstr("candor_requested_threshold_bucket{le=\"0.45\"} 1"));
  EXPECT_THAT(text, HasSubstr("candor_policy_verdicts_total{outcome=\"warn\"} 1"));
  EXPECT_THAT(text, HasSubstr("candor_policy_verdicts_total{outcome=\"reject\"} 0"));
  EXPECT_THAT(text, HasSubstr("candor_policy_fpir{gallery=\"faces\",group=\"A\"} 0.0123"));
  EXPECT_THAT(text, HasSubstr("candor_backend_info{backend=\"gpu\",device=\"H100\"} 1"));
  EXPECT_THAT(text, Not(HasSubstr("faiss-cpu")));
}

// GET /metrics over a plain loopback socket; the whole HTTP response.
std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request =
        "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, request.data(), request.size()) ==
        static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) response.append(buf, n);
    }
  }
  close(fd);
  return response;
}

Metrics::Options At(const std::string& address) {
  Metrics::Options options;
  options.listen_address = address;
  return options;
}

TEST(MetricsTest, ExposerServesMetricsOnLoopback) {
  absl::StatusOr<std::unique_ptr<Metrics>> m = Metrics::Create(At("127.0.0.1:0"));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_GT((*m)->http_port(), 0);
  (*m)->CountRequest("Enroll", absl::StatusCode::kOk);
  const std::string response = HttpGet((*m)->http_port(), "/metrics");
  EXPECT_THAT(response, HasSubstr(" 200 "));
  EXPECT_THAT(response, HasSubstr("candor_requests_total{code=\"OK\",rpc=\"Enroll\"} 1"));
}

TEST(MetricsTest, UnusableAddressIsAnError) {
  absl::StatusOr<std::unique_ptr<Metrics>> first = Metrics::Create(At("127.0.0.1:0"));
  ASSERT_TRUE(first.ok());
  const std::string taken = "127.0.0.1:" + std::to_string((*first)->http_port());
  EXPECT_EQ(Metrics::Create(At(taken)).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace candor::telemetry
