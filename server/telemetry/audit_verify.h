// Offline verification of an audit folder (`candor audit verify`).
#ifndef CANDOR_SERVER_TELEMETRY_AUDIT_VERIFY_H_
#define CANDOR_SERVER_TELEMETRY_AUDIT_VERIFY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace candor::telemetry {

struct VerifyOptions {
  // The audit folder.
  std::string dir;
  // The HMAC key the log was written with (raw bytes, see audit_key.h).
  std::string key;
  // A checkpoint file of the log's head ("" = none). Without one, records
  // deleted from the end of the log cannot be told from records never
  // written: the chain that remains is intact.
  std::string checkpoint_path;
};

struct VerifyResult {
  uint64_t records = 0;  // checked, file headers included
  uint64_t last_seq = 0;
  std::string last_hash;
  uint64_t checkpoint_seq = 0;  // 0 without a checkpoint
  // What is worth knowing but breaks nothing, one line each: a torn line a
  // failed write left at the end of an older file (the next file chains
  // from the record before it), a checkpoint older than retention kept.
  std::vector<std::string> notes;
};

// Checks every audit file in options.dir: each record against its HMAC, the
// chain of seq and prev_hash across files, each file's header, that the
// oldest file retention kept is still there and, with a checkpoint, that
// its own mac holds and the log still holds the record it names. OK, or
// DataLoss naming the first break (file, line, seq); NotFound when the
// folder has no audit files or the checkpoint file is missing.
absl::Status VerifyAuditLog(const VerifyOptions& options, VerifyResult* result);

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_AUDIT_VERIFY_H_
