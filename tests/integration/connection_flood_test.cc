// Connection floods against a candor-server whose fd limit is low (96, as
// in a small container): raw TCP connections past the limit to the gRPC
// port and to /metrics, and idle /metrics connections that never send a
// request. With Debian's gRPC 1.51 a listener whose accept4() fails with
// EMFILE stops accepting for good (CVE-2023-4785); the server must serve a
// new client within 5 s of the flood's end, and /metrics must answer while
// idle connections hold on to it. Bounded: a few hundred loopback
// connections, each phase a few seconds.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/api/test_server.h"
#include "tests/integration/server_process.h"
#include "tests/lib/loopback_http.h"

namespace candor::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kFdLimit = 96;
constexpr int kFloodConnections = 116;
constexpr auto kServedWithin = std::chrono::seconds(5);

// Opens `n` TCP connections to 127.0.0.1:port (non-blocking connects, so
// that a full backlog does not stall the test); returns their fds.
std::vector<int> OpenConnections(int port, int n) {
  std::vector<int> fds;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < n; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fds.push_back(fd);
  }
  return fds;
}

void CloseAll(std::vector<int>* fds) {
  for (int fd : *fds) close(fd);
  fds->clear();
}

// One GET /metrics that gives up after `timeout`; true on a 200 with the
// exposition in it.
bool ScrapeOnce(int port, std::chrono::milliseconds timeout) {
  const std::string response = LoopbackHttpGet(port, "/metrics", timeout);
  return response.rfind("HTTP/1.", 0) == 0 &&
         response.find(" 200 ") != std::string::npos &&
         response.find("process_open_fds") != std::string::npos;
}

// A GetStats on a new channel each try (no reconnect backoff carried over),
// until one succeeds or `within` has passed. Returns the time it took, or
// nothing.
std::optional<Clock::duration> ServedWithin(const std::string& address,
                                            Clock::duration within) {
  const Clock::time_point start = Clock::now();
  while (Clock::now() - start < within) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto stub = v1::Candor::NewStub(grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(1000));
    v1::Stats stats;
    if (stub->GetStats(&ctx, v1::GetStatsRequest(), &stats).ok()) {
      return Clock::now() - start;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::nullopt;
}

std::optional<Clock::duration> ScrapedWithin(int port, Clock::duration within) {
  const Clock::time_point start = Clock::now();
  while (Clock::now() - start < within) {
    if (ScrapeOnce(port, std::chrono::milliseconds(1000))) {
      return Clock::now() - start;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::nullopt;
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

class ConnectionFloodTest : public ::testing::Test {
 protected:
  ConnectionFloodTest()
      : data_dir_(MakeTempDir("candor-flood")),
        metrics_port_(FreeLoopbackPort()) {}
  ~ConnectionFloodTest() override { RemoveTree(data_dir_); }

  std::vector<std::string> Flags(std::vector<std::string> more = {}) const {
    std::vector<std::string> flags = {
        absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port_),
        "--threads=1"};
    flags.insert(flags.end(), more.begin(), more.end());
    return flags;
  }

  const std::string data_dir_;
  const int metrics_port_;
};

// 116 raw connections to each port at an fd limit of 96, held for a
// second, then closed: a new client is served, and /metrics scraped,
// within 5 s.
TEST_F(ConnectionFloodTest, NewClientServedAfterFloodPastFdLimit) {
  ServerProcess server(ServerBinary(), data_dir_, Flags(), kFdLimit);
  ASSERT_TRUE(server.running());
  ASSERT_TRUE(ServedWithin(server.address(), kServedWithin).has_value());

  std::vector<int> grpc_flood = OpenConnections(server.port(), kFloodConnections);
  std::vector<int> metrics_flood =
      OpenConnections(metrics_port_, kFloodConnections);
  EXPECT_EQ(grpc_flood.size(), size_t{kFloodConnections});
  EXPECT_EQ(metrics_flood.size(), size_t{kFloodConnections});
  // Long enough for the server to accept what it will.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CloseAll(&grpc_flood);
  CloseAll(&metrics_flood);

  const auto served = ServedWithin(server.address(), kServedWithin);
  ASSERT_TRUE(served.has_value())
      << "no gRPC call served within 5 s of the flood's end";
  const auto scraped = ScrapedWithin(metrics_port_, kServedWithin);
  ASSERT_TRUE(scraped.has_value())
      << "/metrics not served within 5 s of the flood's end";
  std::cout << "after the flood: gRPC served in " << Seconds(*served)
            << " s, /metrics in " << Seconds(*scraped) << " s\n";
  // Still alive and serving after all.
  EXPECT_TRUE(server.running());
}

// 84 idle connections to /metrics that never send a request and are never
// closed by the client: scrapes and gRPC calls are still served within
// 5 s (the connection cap and the idle timeout free the server's fds).
TEST_F(ConnectionFloodTest, IdleMetricsConnectionsDoNotBlockScrapes) {
  ServerProcess server(ServerBinary(), data_dir_,
                       Flags({"--metrics_connection_timeout_s=2"}), kFdLimit);
  ASSERT_TRUE(server.running());
  std::vector<int> idle = OpenConnections(metrics_port_, 84);
  EXPECT_EQ(idle.size(), 84u);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  const auto scraped = ScrapedWithin(metrics_port_, kServedWithin);
  const auto served = ServedWithin(server.address(), kServedWithin);
  CloseAll(&idle);
  ASSERT_TRUE(scraped.has_value())
      << "/metrics not served within 5 s while 84 idle connections held it";
  ASSERT_TRUE(served.has_value())
      << "no gRPC call served within 5 s while 84 idle /metrics connections";
  std::cout << "with 84 idle /metrics connections: scraped in "
            << Seconds(*scraped) << " s, gRPC served in " << Seconds(*served)
            << " s\n";
}

}  // namespace
}  // namespace candor::testing
