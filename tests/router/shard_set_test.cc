// The router's shard channels against a shard that answers the connection
// handshake late, as a busy shard on a loaded machine does: a TCP relay
// that holds each new connection for a while before it reaches the shard.
#include "server/router/shard_set.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/api/test_server.h"

namespace candor::router {
namespace {

// Accepts on a loopback port; each connection waits `delay`, then is joined
// to 127.0.0.1:upstream_port and relayed both ways until either side closes.
class SlowRelay {
 public:
  SlowRelay(int upstream_port, std::chrono::milliseconds delay)
      : upstream_port_(upstream_port), delay_(delay) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(listen_fd_, 16) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) !=
            0) {
      ADD_FAILURE() << "relay: cannot listen";
      return;
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~SlowRelay() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    absl::MutexLock lock(&mu_);
    for (std::thread& t : relays_) t.join();
    close(listen_fd_);
  }

  int port() const { return port_; }
  int connections() const { return connections_; }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      ++connections_;
      absl::MutexLock lock(&mu_);
      relays_.emplace_back([this, client] { Relay(client); });
    }
  }

  void Relay(int client) {
    std::this_thread::sleep_for(delay_);
    const int upstream = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) ==
        0) {
      pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
      char buffer[1 << 16];
      bool open = true;
      while (open && !stop_) {
        if (poll(fds, 2, 50) <= 0) continue;
        for (int i = 0; i < 2 && open; ++i) {
          if (fds[i].revents == 0) continue;
          const ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
          if (n <= 0) {
            open = false;
            break;
          }
          const int to = fds[1 - i].fd;
          for (ssize_t sent = 0; sent < n && open;) {
            const ssize_t w = write(to, buffer + sent, n - sent);
            if (w <= 0) open = false;
            sent += w;
          }
        }
      }
    }
    close(upstream);
    close(client);
  }

  const int upstream_port_;
  const std::chrono::milliseconds delay_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  absl::Mutex mu_;
  std::vector<std::thread> relays_ ABSL_GUARDED_BY(mu_);
};

int PortOf(const std::string& address) {
  int port = 0;
  EXPECT_TRUE(absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port))
      << address;
  return port;
}

// The first call through a fresh shard channel must wait for a handshake
// that takes longer than gRPC's shortest connect timeout (100 ms), not fail.
TEST(ShardSet, WaitsForAShardThatAnswersTheHandshakeLate) {
  testing::TestServer shard_server;
  constexpr auto kDelay = std::chrono::milliseconds(600);
  SlowRelay relay(PortOf(shard_server.address()), kDelay);
  ASSERT_GT(relay.port(), 0);
  ShardSet shards({"127.0.0.1:" + std::to_string(relay.port())}, 4 << 20);

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  v1::ListGalleriesResponse response;
  const auto start = std::chrono::steady_clock::now();
  const grpc::Status status = shards.shard(0).stub->ListGalleries(
      &context, v1::ListGalleriesRequest(), &response);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(status.ok()) << status.error_code() << ": "
                           << status.error_message();
  // The handshake really was late: the call waited for the relay.
  EXPECT_GE(took, kDelay);
  EXPECT_GE(relay.connections(), 1);
}

}  // namespace
}  // namespace candor::router
