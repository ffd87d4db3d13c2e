// Whole-file reads and crash-safe whole-file replacement (POSIX).
#ifndef CANDOR_SERVER_TELEMETRY_FILE_IO_H_
#define CANDOR_SERVER_TELEMETRY_FILE_IO_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace candor::telemetry {

// The file's bytes; NotFound when it does not exist.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Writes path + ".tmp", fsyncs it, renames it over `path`, then fsyncs the
// containing folder so that the rename itself is durable.
absl::Status WriteFileAtomically(const std::string& path,
                                 std::string_view bytes);

// fsync of a folder, making creations, renames and deletions in it durable.
absl::Status SyncDirectory(const std::string& dir);

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_FILE_IO_H_
