// `candor audit verify DIR`: checks an audit log's hash chain offline (no
// server needed) and names the first broken record.
#include <iostream>
#include <memory>
#include <string>

#include "clients/cli/command.h"
#include "server/telemetry/audit_log.h"

namespace candor::cli {

void AddAuditCommand(CLI::App& app, Action* action) {
  CLI::App* audit = app.add_subcommand("audit", "the server's audit log");
  audit->require_subcommand(1);
  CLI::App* verify = audit->add_subcommand(
      "verify", "check the hash chain of every record in DIR");
  auto dir = std::make_shared<std::string>();
  verify->add_option("DIR", *dir, "audit directory (<data_dir>/audit)")
      ->required();
  verify->callback([dir, action] {
    *action = [dir]() -> absl::Status {
      uint64_t records = 0;
      absl::Status status = telemetry::VerifyAuditLog(*dir, &records);
      if (!status.ok()) return status;
      std::cout << "audit log " << *dir << ": " << records
                << " records, chain intact\n";
      return absl::OkStatus();
    };
  });
}

}  // namespace candor::cli
