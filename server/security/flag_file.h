// Reading the small text files security flags name (--token_file,
// --authz_policy), with the flag in the error.
#ifndef CANDOR_SERVER_SECURITY_FLAG_FILE_H_
#define CANDOR_SERVER_SECURITY_FLAG_FILE_H_

#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace candor::security {

// The whole content of `path`; InvalidArgument "--FLAG: cannot read 'PATH'".
inline absl::StatusOr<std::string> ReadFlagFile(const char* flag,
                                                const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": cannot read '", path, "'"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace candor::security

#endif  // CANDOR_SERVER_SECURITY_FLAG_FILE_H_
