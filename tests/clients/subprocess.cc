#include "tests/clients/subprocess.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace candor::test_util {
namespace {

std::vector<char*> CArgs(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const std::string& arg : argv)
    out.push_back(const_cast<char*>(arg.c_str()));
  out.push_back(nullptr);
  return out;
}

// Standard input from `in_path`; standard error to `err_fd` when it is not
// -1 (a terminal), else to err_path, which may be out_path.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& out_path,
            const std::string& err_path, int flags,
            const std::string& in_path = "/dev/null", int err_fd = -1,
            int close_fd = -1) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                   O_WRONLY | O_CREAT | flags, 0644);
  if (close_fd >= 0) posix_spawn_file_actions_addclose(&actions, close_fd);
  if (err_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
    posix_spawn_file_actions_addclose(&actions, err_fd);
  } else if (err_path == out_path) {
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                     O_WRONLY | O_CREAT | flags, 0644);
  }
  std::vector<char*> args = CArgs(argv);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) !=
      0) {
    pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int ExitCode(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

namespace {

std::string ScratchStem(const std::string& scratch_dir) {
  static std::atomic<int> counter{0};
  return scratch_dir + "/cmd" + std::to_string(::getpid()) + "_" +
         std::to_string(counter++);
}

}  // namespace

CommandResult RunCommandWithTerminal(const std::vector<std::string>& argv,
                                     const std::string& scratch_dir) {
  CommandResult result;
  int master = -1, slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
    result.err = "openpty failed";
    return result;
  }
  const std::string out_path = ScratchStem(scratch_dir) + ".out";
  const pid_t pid =
      Spawn(argv, out_path, out_path, O_TRUNC, "/dev/null", slave, master);
  ::close(slave);
  if (pid < 0) {
    ::close(master);
    result.err = "spawn failed: " + argv[0];
    return result;
  }
  // Drain the terminal until the child's side closes (EIO) or a bound.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(120);
  char buffer[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd fd{master, POLLIN, 0};
    if (::poll(&fd, 1, 200) <= 0) continue;
    const ssize_t n = ::read(master, buffer, sizeof(buffer));
    if (n <= 0) break;
    result.err.append(buffer, static_cast<size_t>(n));
  }
  ::close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = ExitCode(status);
  result.out = ReadWholeFile(out_path);
  ::unlink(out_path.c_str());
  return result;
}

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::string& scratch_dir,
                         const std::string& stdin_path) {
  const std::string stem = ScratchStem(scratch_dir);
  const std::string out_path = stem + ".out";
  const std::string err_path = stem + ".err";
  CommandResult result;
  const pid_t pid = Spawn(argv, out_path, err_path, O_TRUNC, stdin_path);
  if (pid < 0) {
    result.err = "spawn failed: " + argv[0];
    return result;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = ExitCode(status);
  result.out = ReadWholeFile(out_path);
  result.err = ReadWholeFile(err_path);
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
  return result;
}

pid_t StartProcess(const std::vector<std::string>& argv,
                   const std::string& log_path) {
  return Spawn(argv, log_path, log_path, O_APPEND);
}

int StopProcess(pid_t pid, int grace_s) {
  if (pid <= 0) return -1;
  ::kill(pid, SIGTERM);
  int status = 0;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(grace_s);
  while (true) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return ExitCode(status);
    if (done < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

int PickFreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace candor::test_util
