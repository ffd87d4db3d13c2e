// Running the candor binaries from tests: a command to completion with its
// output captured, or a long-running process stopped by the test.
#ifndef CANDOR_TESTS_CLIENTS_SUBPROCESS_H_
#define CANDOR_TESTS_CLIENTS_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace candor::test_util {

struct CommandResult {
  // The exit status, or -1 if the process did not exit normally.
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with argv, waits, and returns what it printed.
// Output is captured through files under `scratch_dir`; standard input
// reads `stdin_path`.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::string& scratch_dir,
                         const std::string& stdin_path = "/dev/null");

// The same with standard error on a pseudo-terminal, as a person at a
// terminal runs it; `err` holds what the terminal received (line ends
// become "\r\n"). Waits at most 120 s for the output to end.
CommandResult RunCommandWithTerminal(const std::vector<std::string>& argv,
                                     const std::string& scratch_dir);

// Starts argv[0] in the background with stdout and stderr appended to
// `log_path`; returns its pid, or -1.
pid_t StartProcess(const std::vector<std::string>& argv,
                   const std::string& log_path);

// Sends SIGTERM, waits for the exit (SIGKILL after `grace_s` seconds) and
// returns the exit status as RunCommand does.
int StopProcess(pid_t pid, int grace_s = 20);

// A TCP port on 127.0.0.1 that was free a moment ago.
int PickFreePort();

std::string ReadWholeFile(const std::string& path);

}  // namespace candor::test_util

#endif  // CANDOR_TESTS_CLIENTS_SUBPROCESS_H_
