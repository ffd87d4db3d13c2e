// The audit checkpoint: the head of the audit chain (seq and hash of the
// newest durable record) in a file of its own, one sealed JSON line:
//
//   {"seq":N,"hash":"...","time":"RFC 3339","mac":"<HMAC-SHA-256>"}
//
// where "mac" seals the line's other members under the audit key. A chain
// cut short after its last record still verifies on its own; against a
// checkpoint kept elsewhere (another disk, a backup, a metric scraped off
// the machine) the missing tail shows.
#ifndef CANDOR_SERVER_TELEMETRY_AUDIT_CHECKPOINT_H_
#define CANDOR_SERVER_TELEMETRY_AUDIT_CHECKPOINT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/storage/env.h"

namespace candor::telemetry {

struct AuditCheckpoint {
  uint64_t seq = 0;
  std::string hash;
  absl::Time time;
};

// The sealed line, with its '\n'.
std::string SealCheckpoint(const AuditCheckpoint& checkpoint,
                           absl::string_view key);

// Replaces `path` atomically with the sealed checkpoint (mode 0600).
absl::Status WriteAuditCheckpoint(const std::string& path,
                                  const AuditCheckpoint& checkpoint,
                                  absl::string_view key,
                                  storage::Env* env = storage::Env::Default());

// Reads and checks a checkpoint file: NotFound when missing, DataLoss
// naming the file when its mac or its form is wrong.
absl::StatusOr<AuditCheckpoint> ReadAuditCheckpoint(
    const std::string& path, absl::string_view key,
    storage::Env* env = storage::Env::Default());

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_AUDIT_CHECKPOINT_H_
