// What every `candor` subcommand shares: the global options, the action a
// parsed command leaves to run, usage errors, and JSON output helpers.
#ifndef CANDOR_CLIENTS_CLI_COMMAND_H_
#define CANDOR_CLIENTS_CLI_COMMAND_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "clients/cli/synth.h"
#include "clients/cpp/client.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace candor::cli {

struct GlobalOptions {
  std::string server = "127.0.0.1:50051";
  // Deadline of each RPC; 0 = none.
  double timeout_s = 60.0;
  // PEM files: the CA that verifies the server, and the client certificate
  // with its key. Any of them turns TLS on.
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  // A file holding a bearer token (surrounding whitespace ignored).
  std::string token_file;
};

// Adds --server, --timeout-s and the TLS options to `app`, each also read
// from its CANDOR_* environment variable (a flag wins over the variable).
void AddGlobalOptions(CLI::App& app, GlobalOptions* global);
// Usage errors in the global options that need no file read: a certificate
// without its key or the reverse, a token without TLS. Checked by
// MakeClient, so commands that never connect (synth, audit) ignore them.
absl::Status CheckGlobalOptions(const GlobalOptions& global);

// The work of the subcommand that was parsed; set by its CLI11 callback
// and run by main once parsing has succeeded.
using Action = std::function<absl::Status()>;

// Every Add*Command registers its subcommand(s) on `app`; when one is
// parsed, its callback stores the work in *action.
void AddGalleryCommand(CLI::App& app, const GlobalOptions& global,
                       Action* action);
void AddEnrollCommands(CLI::App& app, const GlobalOptions& global,
                       Action* action);  // enroll, remove
void AddSearchCommand(CLI::App& app, const GlobalOptions& global,
                      Action* action);
void AddCalibrationCommands(CLI::App& app, const GlobalOptions& global,
                            Action* action);  // calibrate, report, policy
void AddStatsCommand(CLI::App& app, const GlobalOptions& global,
                     Action* action);
void AddSynthCommand(CLI::App& app, Action* action);
void AddAuditCommand(CLI::App& app, Action* action);  // audit verify
// The synthetic-data model's options, shared by `synth` and `demo`.
void AddSynthOptions(CLI::App* sub, SynthOptions* options);
void AddDemoCommand(CLI::App& app, const GlobalOptions& global, Action* action);

// A mistake in how the command was called (exit code 2), as opposed to a
// failure while running it (exit code 1).
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);

// A client of global.server as the TLS options say; fails (before any
// connection) on CheckGlobalOptions' errors and on a file that cannot be
// read.
absl::StatusOr<std::unique_ptr<Client>> MakeClient(const GlobalOptions& global);

// Rows per request when the user names no batch size: at most 1024 rows
// and 3 MiB of vectors, under both the server's default --max_batch (4096)
// and gRPC's customary 4 MiB message limit.
int64_t DefaultBatchRows(int64_t dim);

// A message in proto3's JSON mapping with the .proto field names and every
// field printed, zero or not, except that 64-bit integers are JSON numbers
// (the canonical mapping makes them strings, which shell tools and most
// readers then mistake for text). Enums stay their .proto names.
nlohmann::json ProtoToJson(const google::protobuf::Message& message);

// Adds --format json|table to `sub`; *format holds the default.
void AddFormatOption(CLI::App* sub, std::string* format);
// Prints `value` to stdout as --format says: indented JSON, or a table.
void PrintFormatted(const nlohmann::json& value, const std::string& format);

// "no candor server at ADDR (--server or CANDOR_SERVER): " when `status`
// says nothing answered at global.server (nothing listening, a name that
// does not resolve); "" otherwise, e.g. for a server's own UNAVAILABLE.
std::string NoServerPrefix(const absl::Status& status,
                           const GlobalOptions& global);

// Whether standard error is a terminal, where progress lines belong.
bool StderrIsTerminal();

}  // namespace candor::cli

#endif  // CANDOR_CLIENTS_CLI_COMMAND_H_
