// Offline verification of an audit folder (`candor audit verify`).
#ifndef CANDOR_SERVER_TELEMETRY_AUDIT_VERIFY_H_
#define CANDOR_SERVER_TELEMETRY_AUDIT_VERIFY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/telemetry/audit_chain.h"

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
  // Breaks the server recorded when it found the log damaged at start-up,
  // one line each: where the new chain begins, why, what was sealed aside
  // and the last verified record it links to. Records after that one were
  // lost to the damage (they remain in the sealed files).
  std::vector<std::string> breaks;
};

// The "break" member of a file header that begins a new chain after damage
// (AuditLog::Open): {"reason", "sealed": [file names], "last_verified_seq",
// "last_verified_hash"}. The header's seq is last_verified_seq + 1 and its
// prev_hash is last_verified_hash (the genesis hash and 0 when nothing
// verified).
inline constexpr char kBreakMember[] = "break";

// Whether `header` (a file header's body) records a break that its own seq
// and prev_hash continue from.
bool IsRecordedBreak(const AuditJson& header);
// One line describing the break `header` records, at `place`.
std::string DescribeBreak(const AuditJson& header, const std::string& place);

// Checks every audit file in options.dir: each record against its HMAC, the
// chain of seq and prev_hash across files, each file's header, that the
// oldest file retention kept is still there and, with a checkpoint, that
// its own mac holds and the log still holds the record it names. A break
// the server recorded (a header with kBreakMember that links to the last
// record it verified) is listed in result->breaks and checking goes on
// after it. OK, or DataLoss naming the first unrecorded break (file, line,
// seq); NotFound when the folder has no audit files or the checkpoint file
// is missing.
absl::Status VerifyAuditLog(const VerifyOptions& options, VerifyResult* result);

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_AUDIT_VERIFY_H_
