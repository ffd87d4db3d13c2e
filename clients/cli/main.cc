// `candor`: the command-line client of a candor server.
//
// Subcommands and options are parsed by CLI11 (Debian's libcli11-dev):
// Abseil flags are process-global and cannot spell the hyphenated options
// (--top-k, --no-report) nor scope options to a subcommand.
#include <CLI/CLI.hpp>
#include <iostream>

#include "absl/status/status.h"
#include "clients/cli/command.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int ReportError(const absl::Status& status) {
  if (candor::cli::IsUsageError(status)) {
    std::cerr << "candor: error: " << status.message() << "\n";
    return kExitUsage;
  }
  std::cerr << "candor: error: " << absl::StatusCodeToString(status.code())
            << ": " << status.message() << "\n";
  return kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(
      "candor: 1:N embedding search whose every answer says what "
      "its threshold costs.",
      "candor");
  // Global options may also follow the subcommand.
  app.fallthrough();
  app.require_subcommand(1);
  candor::cli::GlobalOptions global;
  app.add_option("--server", global.server, "server address (host:port)")
      ->capture_default_str();
  app.add_option("--timeout-s", global.timeout_s,
                 "deadline of each RPC in seconds, 0 for none")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);

  candor::cli::Action action;
  candor::cli::AddGalleryCommand(app, global, &action);
  candor::cli::AddEnrollCommands(app, global, &action);
  candor::cli::AddSearchCommand(app, global, &action);
  candor::cli::AddCalibrationCommands(app, global, &action);
  candor::cli::AddStatsCommand(app, global, &action);
  candor::cli::AddSynthCommand(app, &action);
  candor::cli::AddAuditCommand(app, &action);
  candor::cli::AddDemoCommand(app, global, &action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "candor: error: " << e.what() << "\n"
              << "Run with --help for more information.\n";
    return kExitUsage;
  }
  if (!action) return ReportError(candor::cli::UsageError("no command"));
  const absl::Status status = action();
  if (!status.ok()) return ReportError(status);
  return 0;
}
