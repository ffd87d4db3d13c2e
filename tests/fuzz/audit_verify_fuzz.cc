// An audit file from untrusted bytes: the verifier names the first break
// or accepts it, never crashes. A file it accepts is a chain under the key,
// which random bytes cannot forge: acceptance of anything but a genuine
// chain would be a finding.
#include <cstdlib>
#include <filesystem>

#include "server/telemetry/audit_chain.h"
#include "server/telemetry/audit_verify.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string* dir = [] {
    auto* d = new std::string(candor::fuzz::ScratchDir() + "/audit");
    std::filesystem::create_directories(*d);
    return d;
  }();
  const std::string key(32, 'k');
  candor::fuzz::WriteScratch(
      *dir + "/" + candor::telemetry::AuditFileName(1), data, size);
  candor::telemetry::VerifyOptions options;
  options.dir = *dir;
  options.key = key;
  candor::telemetry::VerifyResult result;
  const absl::Status status = candor::telemetry::VerifyAuditLog(options, &result);
  if (status.ok() && result.records == 0) std::abort();
  return 0;
}
