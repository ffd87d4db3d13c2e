// `candor`: the command-line client of a candor server.
//
// Subcommands and options are parsed by CLI11 (Debian's libcli11-dev):
// Abseil flags are process-global and cannot spell the hyphenated options
// (--top-k, --no-report) nor scope options to a subcommand.
#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "candor_version.h"
#include "clients/cli/command.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// What to try when a connection was closed during or instead of the TLS
// handshake ("" when the error does not look like that).
std::string HandshakeHint(const absl::Status& status,
                          const candor::cli::GlobalOptions& global) {
  if (status.code() != absl::StatusCode::kUnavailable) return "";
  const std::string message = absl::AsciiStrToLower(status.message());
  if (!absl::StrContains(message, "socket closed") &&
      !absl::StrContains(message, "handshake")) {
    return "";
  }
  if (global.tls_ca.empty() && global.tls_cert.empty()) {
    return " (if the server serves TLS, give --tls-ca and a client "
           "certificate)";
  }
  return " (the TLS handshake failed: check that --tls-ca signed the "
         "server's certificate, and that your certificate is current and "
         "signed by a CA the server trusts)";
}

int ReportError(const absl::Status& status,
                const candor::cli::GlobalOptions& global) {
  if (candor::cli::IsUsageError(status)) {
    std::cerr << "candor: error: " << status.message() << "\n";
    return kExitUsage;
  }
  // Who may call what is the server's to say; its message names the
  // identity and the call where it can. What to do about it is ours.
  if (status.code() == absl::StatusCode::kUnauthenticated) {
    std::cerr << "candor: error: not authenticated: " << status.message()
              << " (give a client certificate signed by a CA the server "
                 "trusts with --tls-cert and --tls-key, or a token with "
                 "--token-file)\n";
    return kExitFailure;
  }
  if (status.code() == absl::StatusCode::kPermissionDenied) {
    std::cerr << "candor: error: permission denied: " << status.message()
              << " (ask an admin to add your identity to a role that may "
                 "make this call)\n";
    return kExitFailure;
  }
  std::cerr << "candor: error: " << absl::StatusCodeToString(status.code())
            << ": " << candor::cli::NoServerPrefix(status, global)
            << status.message() << HandshakeHint(status, global) << "\n";
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
  app.set_version_flag("--version", candor::VersionLine(),
                       "print the version and git commit, then exit");
  candor::cli::GlobalOptions global;
  candor::cli::AddGlobalOptions(app, &global);

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
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "candor: error: " << e.what() << "\n"
              << "Run with --help for more information.\n";
    return kExitUsage;
  }
  if (!action) {
    return ReportError(candor::cli::UsageError("no command"), global);
  }
  const absl::Status status = action();
  if (!status.ok()) return ReportError(status, global);
  return 0;
}
