#include "tests/integration/server_process.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace candor::testing {

std::string ServerBinary() { return CANDOR_SERVER_BIN; }

ServerProcess::ServerProcess(const std::string& binary,
                             const std::string& data_dir,
                             std::vector<std::string> extra_flags,
                             int nofile_limit) {
  log_path_ = data_dir + ".server.log";
  const std::string port_path = data_dir + ".port";
  std::vector<std::string> args = {binary, "--listen=127.0.0.1:0",
                                   "--data_dir=" + data_dir,
                                   "--metrics_listen=",
                                   "--port_file=" + port_path};
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  // A port file left by an earlier run on this data directory would name a
  // stale port: start from none.
  std::remove(port_path.c_str());
  pid_ = fork();
  if (pid_ == 0) {
    FILE* log = std::fopen(log_path_.c_str(), "w");
    if (log != nullptr) dup2(fileno(log), STDERR_FILENO);
    if (nofile_limit > 0) {
      const rlimit limit{static_cast<rlim_t>(nofile_limit),
                         static_cast<rlim_t>(nofile_limit)};
      if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(126);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  // The server writes --port_file once it listens; 30 s covers a slow
  // start on a loaded 2-core machine (recovery of a large log included).
  for (int i = 0; i < 3000 && port_ == 0; ++i) {
    std::ifstream in(port_path);
    int port = 0;
    if (in >> port) port_ = port;
    int status = 0;
    if (port_ == 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      ADD_FAILURE() << "candor-server exited during start:\n" << ReadLog();
      pid_ = -1;
      return;
    }
    if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (port_ == 0) {
    ADD_FAILURE() << "candor-server did not write its port file:\n"
                  << ReadLog();
  }
}

std::string ServerProcess::ReadLog() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

ServerProcess::~ServerProcess() {
  if (running()) Terminate();
}

std::string ServerProcess::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::unique_ptr<v1::Candor::Stub> ServerProcess::NewStub() const {
  return v1::Candor::NewStub(
      grpc::CreateChannel(address(), grpc::InsecureChannelCredentials()));
}

void ServerProcess::Kill() {
  if (!running()) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int ServerProcess::Terminate() {
  if (!running()) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

}  // namespace candor::testing
