// The chain of the audit log: how a record line is sealed and checked, and
// how audit files are named. Shared by the writer and the verifier.
//
// A line is a JSON object whose last member is "hash": the hex HMAC-SHA-256,
// under the audit key, of the line's exact bytes before `,"hash":"`, closed
// with `}`. Every record carries "seq" (consecutive from 1 across all files)
// and "prev_hash" (the previous record's hash; kGenesisHash for the first
// record ever), so an edited, deleted, reordered or inserted record breaks
// the chain, and without the key nobody can seal a record that fits it. The
// first record of every file is a "file_header" record ("mac":
// "hmac-sha256") that continues the chain from the previous file and names
// the oldest file retention has kept.
//
// What the chain cannot show by itself is a tail cut off after the last
// record: the checkpoint file (audit_checkpoint.h) anchors the head.
#ifndef CANDOR_SERVER_TELEMETRY_AUDIT_CHAIN_H_
#define CANDOR_SERVER_TELEMETRY_AUDIT_CHAIN_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace candor::telemetry {

using AuditJson = nlohmann::ordered_json;

inline constexpr char kGenesisHash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";
inline constexpr char kFileHeaderOperation[] = "file_header";
// The "mac" member of every file header.
inline constexpr char kAuditMac[] = "hmac-sha256";

// Hex HMAC-SHA-256 of `bytes` under `key` (raw key bytes).
std::string HmacSha256Hex(absl::string_view key, absl::string_view bytes);

// Equality of two hashes in time that does not depend on where they differ.
bool HashesEqual(absl::string_view a, absl::string_view b);

// Seals `body` (a JSON object) into one line ending in '\n' whose last
// member is `member` ("hash" for records, "mac" for checkpoints): the HMAC
// of the body's exact bytes. `mac`, when given, receives that HMAC.
std::string SealLine(const AuditJson& body, absl::string_view key,
                     absl::string_view member, std::string* mac = nullptr);

// Checks one sealed line (without its '\n') against its last member and
// parses the body (without that member). DataLoss naming what is wrong.
struct OpenedLine {
  AuditJson body;
  std::string mac;
};
absl::StatusOr<OpenedLine> OpenLine(absl::string_view line,
                                    absl::string_view key,
                                    absl::string_view member);

// A record: SealLine with "hash".
std::string SealRecord(const AuditJson& body, absl::string_view key,
                       std::string* hash);

struct OpenedRecord {
  AuditJson body;  // without "hash"
  std::string hash;
};

// OpenLine with "hash", and the body has an unsigned "seq" and a string
// "prev_hash".
absl::StatusOr<OpenedRecord> OpenRecord(absl::string_view line,
                                        absl::string_view key);

// "audit-<first seq, 20 digits>.jsonl": names sort in chain order.
std::string AuditFileName(uint64_t first_seq);
bool IsAuditFileName(absl::string_view name);
// The first seq of a file so named.
uint64_t AuditFileFirstSeq(absl::string_view name);

// The audit files in `dir`, in chain order (names only).
absl::StatusOr<std::vector<std::string>> ListAuditFiles(const std::string& dir);

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_AUDIT_CHAIN_H_
