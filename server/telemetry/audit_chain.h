// The hash chain of the audit log: how a record line is sealed and checked,
// and how audit files are named. Shared by the writer and the verifier.
//
// A line is a JSON object whose last member is "hash": the hex SHA-256 of
// the line's exact bytes before `,"hash":"`, closed with `}`. Every record
// carries "seq" (consecutive from 1 across all files) and "prev_hash" (the
// previous record's hash; kGenesisHash for the first record ever), so an
// edited, deleted, reordered or inserted record breaks the chain. The first
// record of every file is a "file_header" record that continues the chain
// from the previous file and names the oldest file retention has kept.
#ifndef CANDOR_SERVER_TELEMETRY_AUDIT_CHAIN_H_
#define CANDOR_SERVER_TELEMETRY_AUDIT_CHAIN_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace candor::telemetry {

using AuditJson = nlohmann::ordered_json;

inline constexpr char kGenesisHash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";
inline constexpr char kFileHeaderOperation[] = "file_header";

std::string Sha256Hex(std::string_view bytes);

// The line (with its trailing '\n') for a record: `body` with "hash" added.
// `hash` receives the hash.
std::string SealRecord(const AuditJson& body, std::string* hash);

struct OpenedRecord {
  AuditJson body;  // without "hash"
  std::string hash;
};

// Checks one line (without its '\n') against its own hash and parses it.
// DataLoss naming what is wrong.
absl::StatusOr<OpenedRecord> OpenRecord(std::string_view line);

// "audit-<first seq, 20 digits>.jsonl": names sort in chain order.
std::string AuditFileName(uint64_t first_seq);
bool IsAuditFileName(std::string_view name);

// The audit files in `dir`, in chain order (names only).
absl::StatusOr<std::vector<std::string>> ListAuditFiles(const std::string& dir);

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_AUDIT_CHAIN_H_
