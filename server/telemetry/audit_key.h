// The audit key: the secret the audit log's HMAC chain and its checkpoints
// are sealed with (--audit_key_file). Whoever holds it can forge records, so
// it belongs outside the audit folder, readable by the server alone.
#ifndef CANDOR_SERVER_TELEMETRY_AUDIT_KEY_H_
#define CANDOR_SERVER_TELEMETRY_AUDIT_KEY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/storage/env.h"

namespace candor::telemetry {

// Shorter keys are refused: 32 bytes is SHA-256's own strength.
inline constexpr size_t kMinAuditKeyBytes = 32;

// The key: the file's bytes, trailing whitespace trimmed (so the output of
// `openssl rand -hex 32 > FILE` is used as the 64 characters it holds).
// NotFound or InvalidArgument (too short), each saying how to make one.
absl::StatusOr<std::string> LoadAuditKey(
    const std::string& path, storage::Env* env = storage::Env::Default());

// False when others, or a group other than this process's own, may read or
// write the file (or it cannot be examined): the server logs a warning and
// goes on.
bool KeyFileIsPrivate(const std::string& path);

// LoadAuditKey, but a missing file is first created (mode 0600) with 64 hex
// characters from OpenSSL's RAND_bytes. If another process creates it at
// the same moment, both use the one that landed first.
absl::StatusOr<std::string> LoadOrCreateAuditKey(
    const std::string& path, storage::Env* env = storage::Env::Default());

// Writes `bytes` to `path` as a new file of mode 0600: written to a
// temporary file, fsynced, moved into place (replacing an existing `path`
// only when `replace`; otherwise AlreadyExists), and the folder fsynced.
absl::Status WritePrivateFile(const std::string& path, absl::string_view bytes,
                              bool replace,
                              storage::Env* env = storage::Env::Default());

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_AUDIT_KEY_H_
