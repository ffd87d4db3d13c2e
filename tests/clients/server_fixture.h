// A real candor-server on a loopback port with a fresh data directory,
// shared by the tests of one suite, plus a runner for the candor CLI.
#ifndef CANDOR_TESTS_CLIENTS_SERVER_FIXTURE_H_
#define CANDOR_TESTS_CLIENTS_SERVER_FIXTURE_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "clients/cpp/client.h"
#include "gtest/gtest.h"
#include "tests/clients/subprocess.h"

namespace candor::test_util {

struct StartedServer {
  pid_t pid = -1;
  // 127.0.0.1:PORT
  std::string address;
};

// Starts candor-server on 127.0.0.1 with a port of its choosing, the CPU
// backend, one thread, no metrics endpoint and `flags` (--data_dir among
// them), its output in `log_path`; returns once it has written the port it
// bound to --port_file (log_path + ".port").
absl::StatusOr<StartedServer> StartServer(const std::vector<std::string>& flags,
                                          const std::string& log_path);

// Asks `client` for GetStats until the server answers (bounded).
absl::Status WaitUntilServing(Client& client);

class ServerFixture : public ::testing::Test {
 protected:
  // Starts the server (port chosen by the server, read from its port file) and
  // waits until it answers GetStats; stops it at the end of the suite.
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;

  // Runs `candor --server ADDR args...`.
  CommandResult Candor(std::vector<std::string> args) const;
  static const std::string& address() { return address_; }
  static const std::string& scratch() { return scratch_; }
  static std::string ServerLog();

 private:
  static pid_t pid_;
  static std::string address_;
  static std::string scratch_;
  static std::string setup_error_;
};

}  // namespace candor::test_util

#endif  // CANDOR_TESTS_CLIENTS_SERVER_FIXTURE_H_
