#include "tests/clients/server_fixture.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

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

// The port from the server's "serving ... (port N)" log line, or 0.
int PortFromLog(const std::string& log) {
  const std::string marker = "(port ";
  const size_t at = log.find(marker);
  if (at == std::string::npos) return 0;
  const size_t start = at + marker.size();
  const size_t end = log.find(')', start);
  int port = 0;
  if (end == std::string::npos ||
      !absl::SimpleAtoi(log.substr(start, end - start), &port)) {
    return 0;
  }
  return port;
}

}  // namespace

std::string ServerFixture::ServerLog() {
  return ReadWholeFile(scratch_ + "/server.log");
}

void ServerFixture::SetUpTestSuite() {
  scratch_ =
      absl::StrCat(::testing::TempDir(), "/candor_cli_server_", ::getpid());
  std::filesystem::remove_all(scratch_);
  std::filesystem::create_directories(scratch_ + "/data");
  pid_ = StartProcess({CANDOR_SERVER_PATH, "--listen=127.0.0.1:0",
                       "--data_dir=" + scratch_ + "/data",
                       "--metrics_listen=", "--backend=cpu", "--threads=1"},
                      scratch_ + "/server.log");
  if (pid_ < 0) {
    setup_error_ = "cannot start " CANDOR_SERVER_PATH;
    return;
  }
  int port = 0;
  for (int i = 0; i < kStartupPolls && port == 0; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      setup_error_ = "candor-server exited at startup:\n" + ServerLog();
      return;
    }
    port = PortFromLog(ServerLog());
    if (port == 0) std::this_thread::sleep_for(kPollInterval);
  }
  if (port == 0) {
    setup_error_ = "candor-server never said its port:\n" + ServerLog();
    return;
  }
  address_ = absl::StrCat("127.0.0.1:", port);
  Client client(address_, absl::Seconds(5));
  absl::Status last = absl::UnknownError("not tried");
  for (int i = 0; i < kStartupPolls / 10 && !last.ok(); ++i) {
    last = client.GetStats().status();
    if (!last.ok()) std::this_thread::sleep_for(kPollInterval);
  }
  if (!last.ok()) setup_error_ = "server does not answer: " + last.ToString();
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
