#include "server/telemetry/audit_checkpoint.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/storage/files.h"
#include "server/telemetry/audit_chain.h"

namespace candor::telemetry {
namespace {

constexpr char kTimeFormat[] = "%Y-%m-%dT%H:%M:%E6SZ";

absl::Status Bad(const std::string& path, absl::string_view why) {
  return absl::DataLossError(
      absl::StrCat("audit checkpoint ", path, ": ", why));
}

}  // namespace

std::string SealCheckpoint(const AuditCheckpoint& checkpoint,
                           absl::string_view key) {
  AuditJson body;
  body["seq"] = checkpoint.seq;
  body["hash"] = checkpoint.hash;
  body["time"] =
      absl::FormatTime(kTimeFormat, checkpoint.time, absl::UTCTimeZone());
  return SealLine(body, key, "mac");
}

absl::Status WriteAuditCheckpoint(const std::string& path,
                                  const AuditCheckpoint& checkpoint,
                                  absl::string_view key, storage::Env* env) {
  return storage::WriteFileAtomically(env, path,
                                      SealCheckpoint(checkpoint, key));
}

absl::StatusOr<AuditCheckpoint> ReadAuditCheckpoint(const std::string& path,
                                                    absl::string_view key,
                                                    storage::Env* env) {
  absl::StatusOr<std::string> content = env->ReadFile(path);
  if (!content.ok()) return content.status();
  absl::StatusOr<OpenedLine> line =
      OpenLine(absl::StripTrailingAsciiWhitespace(*content), key, "mac");
  if (!line.ok()) return Bad(path, line.status().message());
  const AuditJson& body = line->body;
  AuditCheckpoint checkpoint;
  std::string error;
  if (!body.contains("seq") || !body["seq"].is_number_unsigned() ||
      !body.contains("hash") || !body["hash"].is_string() ||
      !body.contains("time") || !body["time"].is_string() ||
      !absl::ParseTime(kTimeFormat, body["time"].get<std::string>(),
                       &checkpoint.time, &error)) {
    return Bad(path, "not a checkpoint {seq, hash, time}");
  }
  checkpoint.seq = body["seq"].get<uint64_t>();
  checkpoint.hash = body["hash"].get<std::string>();
  return checkpoint;
}

}  // namespace candor::telemetry
