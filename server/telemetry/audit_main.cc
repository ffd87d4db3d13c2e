// candor-audit verify DIR: checks the audit log's hash chain.
// Exit 0 when it holds; 1 naming the first broken record; 2 on usage errors.
#include <cstdio>
#include <string>

#include "server/telemetry/audit_log.h"

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "verify") {
    std::fprintf(stderr, "usage: %s verify DIR\n", argv[0]);
    return 2;
  }
  uint64_t records = 0;
  const absl::Status status = candor::telemetry::VerifyAuditLog(argv[2], &records);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
    return 1;
  }
  std::printf("audit chain holds: %llu records\n",
              static_cast<unsigned long long>(records));
  return 0;
}
