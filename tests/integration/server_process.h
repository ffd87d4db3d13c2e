// A candor-server child process on a loopback port, for tests that must
// kill it (-9) or restart it as an operator would.
#ifndef CANDOR_TESTS_INTEGRATION_SERVER_PROCESS_H_
#define CANDOR_TESTS_INTEGRATION_SERVER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "candor/v1/candor.grpc.pb.h"

namespace candor::testing {

class ServerProcess {
 public:
  // Starts `binary` with --listen=127.0.0.1:0 --data-dir=data_dir plus
  // `extra_flags`, and waits until it serves (it writes the port it bound
  // to --port_file=data_dir + ".port").
  // nofile_limit > 0: the child's RLIMIT_NOFILE, soft and hard (a
  // container's limit, for tests that run it out of fds).
  ServerProcess(const std::string& binary, const std::string& data_dir,
                std::vector<std::string> extra_flags = {},
                int nofile_limit = 0);
  ~ServerProcess();

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string address() const;
  std::unique_ptr<v1::Candor::Stub> NewStub() const;

  // SIGKILL: no drain, no flush (a crash).
  void Kill();
  // SIGTERM and wait: a clean shutdown. Returns the exit status.
  int Terminate();

  // What the server has written to stderr so far.
  std::string ReadLog() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

// The candor-server binary under test (compile definition).
std::string ServerBinary();

}  // namespace candor::testing

#endif  // CANDOR_TESTS_INTEGRATION_SERVER_PROCESS_H_
