#include "tests/clients/server_fixture.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "clients/cpp/client.h"

namespace candor::test_util {

pid_t ServerFixture::pid_ = -1;
std::string ServerFixture::address_;
std::string ServerFixture::scratch_;
std::string ServerFixture::setup_error_;

namespace {

// Bounds on waiting for the server to come up: a cold start loads FAISS
// and may probe for a GPU; on a loaded 2-core machine that takes a while.
constexpr int kStartupPolls = 1200;
constexpr auto kPollInterval = std::chrono::milliseconds(100);

// The port in the server's --port_file, or 0 while it has not written it.
int PortFromFile(const std::string& path) {
  int port = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadWholeFile(path)),
                        &port)) {
    return 0;
  }
  return port;
}

}  // namespace

std::string ServerFixture::ServerLog() {
  return ReadWholeFile(scratch_ + "/server.log");
}

absl::StatusOr<StartedServer> StartServer(const std::vector<std::string>& flags,
                                          const std::string& log_path) {
  // One left by an earlier server with this log would name a stale port.
  const std::string port_path = log_path + ".port";
  std::filesystem::remove(port_path);
  std::vector<std::string> argv = {CANDOR_SERVER_PATH, "--listen=127.0.0.1:0",
                                   "--metrics_listen=", "--backend=cpu",
                                   "--threads=1", "--port_file=" + port_path};
  argv.insert(argv.end(), flags.begin(), flags.end());
  StartedServer server;
  server.pid = StartProcess(argv, log_path);
  if (server.pid < 0) {
    return absl::InternalError("cannot start " CANDOR_SERVER_PATH);
  }
  int port = 0;
  for (int i = 0; i < kStartupPolls && port == 0; ++i) {
    int status = 0;
    if (waitpid(server.pid, &status, WNOHANG) == server.pid) {
      return absl::InternalError("candor-server exited at startup:\n" +
                                 ReadWholeFile(log_path));
    }
    port = PortFromFile(port_path);
    if (port == 0) std::this_thread::sleep_for(kPollInterval);
  }
  if (port == 0) {
    StopProcess(server.pid);
    return absl::InternalError("candor-server never wrote its port file:\n" +
                               ReadWholeFile(log_path));
  }
  server.address = absl::StrCat("127.0.0.1:", port);
  return server;
}

absl::Status WaitUntilServing(Client& client) {
  absl::Status last = absl::UnknownError("not tried");
  for (int i = 0; i < kStartupPolls / 10 && !last.ok(); ++i) {
    last = client.GetStats().status();
    if (!last.ok()) std::this_thread::sleep_for(kPollInterval);
  }
  return last;
}

void ServerFixture::SetUpTestSuite() {
  scratch_ =
      absl::StrCat(::testing::TempDir(), "/candor_cli_server_", ::getpid());
  std::filesystem::remove_all(scratch_);
  std::filesystem::create_directories(scratch_ + "/data");
  absl::StatusOr<StartedServer> server = StartServer(
      {"--data_dir=" + scratch_ + "/data"}, scratch_ + "/server.log");
  if (!server.ok()) {
    setup_error_ = std::string(server.status().message());
    return;
  }
  pid_ = server->pid;
  address_ = server->address;
  Client client(address_, absl::Seconds(5));
  const absl::Status serving = WaitUntilServing(client);
  if (!serving.ok()) {
    setup_error_ = "server does not answer: " + serving.ToString();
  }
}

void ServerFixture::TearDownTestSuite() {
  if (pid_ > 0) {
    const int exit_code = StopProcess(pid_);
    EXPECT_EQ(exit_code, 0) << "candor-server did not shut down cleanly:\n"
                            << ServerLog();
    pid_ = -1;
  }
  std::filesystem::remove_all(scratch_);
}

void ServerFixture::SetUp() {
  ASSERT_TRUE(setup_error_.empty()) << setup_error_;
}

CommandResult ServerFixture::Candor(std::vector<std::string> args) const {
  args.insert(args.begin(), {CANDOR_CLI_PATH, "--server", address_});
  return RunCommand(args, scratch_);
}

}  // namespace candor::test_util
