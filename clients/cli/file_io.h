// Whole-file reads and writes with errors that name the file.
#ifndef CANDOR_CLIENTS_CLI_FILE_IO_H_
#define CANDOR_CLIENTS_CLI_FILE_IO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace candor {

absl::StatusOr<std::string> ReadFileBytes(const std::string& path);
absl::Status WriteFileBytes(const std::string& path, absl::string_view bytes);

}  // namespace candor

#endif  // CANDOR_CLIENTS_CLI_FILE_IO_H_
