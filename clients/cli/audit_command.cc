// `candor audit verify DIR --key FILE [--checkpoint FILE]`: checks an audit
// log offline (no server needed) and names the first break, or the breaks
// the server recorded when it found the log damaged (exit status non-zero
// either way).
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "clients/cli/command.h"
#include "server/telemetry/audit_key.h"
#include "server/telemetry/audit_verify.h"

namespace candor::cli {

void AddAuditCommand(CLI::App& app, Action* action) {
  CLI::App* audit = app.add_subcommand("audit", "the server's audit log");
  audit->require_subcommand(1);
  CLI::App* verify = audit->add_subcommand(
      "verify",
      "check every record in DIR against its HMAC and the chain; with "
      "--checkpoint, also that no records were cut off the end (without "
      "one, a log whose last records were deleted still verifies)");
  auto options = std::make_shared<telemetry::VerifyOptions>();
  auto key_file = std::make_shared<std::string>();
  verify->add_option("DIR", options->dir, "audit directory (<data_dir>/audit)")
      ->required();
  verify->add_option("--key", *key_file, "the server's --audit_key_file")
      ->required();
  verify->add_option("--checkpoint", options->checkpoint_path,
                     "the server's --audit_checkpoint_file");
  verify->callback([options, key_file, action] {
    *action = [options, key_file]() -> absl::Status {
      absl::StatusOr<std::string> key = telemetry::LoadAuditKey(*key_file);
      if (!key.ok()) return key.status();
      options->key = *std::move(key);
      telemetry::VerifyResult result;
      absl::Status status = telemetry::VerifyAuditLog(*options, &result);
      for (const std::string& note : result.notes)
        std::cerr << "note: " << note << "\n";
      if (!status.ok()) return status;
      // Breaks the server recorded after finding the log damaged: the chain
      // around them holds, but records after each break's last verified
      // record were lost from the live log (they lie in the sealed files).
      for (const std::string& line : result.breaks)
        std::cout << "break: " << line << "\n";
      std::cout << "audit log " << options->dir << ": " << result.records
                << " records, chain intact"
                << (result.breaks.empty()
                        ? ""
                        : absl::StrCat(" around ", result.breaks.size(),
                                       " recorded break(s)"))
                << " (HMAC-SHA-256), last seq "
                << result.last_seq;
      if (result.checkpoint_seq > 0) {
        std::cout << ", checkpoint seq " << result.checkpoint_seq << " covered";
      }
      std::cout << "\n";
      if (!result.breaks.empty()) {
        return absl::DataLossError(absl::StrCat(
            result.breaks.size(),
            " recorded break(s) in the chain, where the server found the log "
            "damaged and sealed it aside (see break: above); every record "
            "around them verified"));
      }
      return absl::OkStatus();
    };
  });
}

}  // namespace candor::cli
