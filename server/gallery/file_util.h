// Transitional: the gallery's old file helpers, now thin wrappers over the
// storage layer's POSIX Env (server/storage). New code takes the Env it is
// given (GalleryOptions::env) and calls storage:: directly; this header
// goes once nothing includes it.
#ifndef CANDOR_SERVER_GALLERY_FILE_UTIL_H_
#define CANDOR_SERVER_GALLERY_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/storage/env.h"
#include "server/storage/files.h"

namespace candor::gallery {

using storage::ErrnoStatus;
using storage::JoinPath;
using storage::ParentDir;

inline absl::Status FsyncDir(const std::string& dir) {
  return storage::Env::Default()->SyncDir(dir);
}
inline absl::Status MakeDirs(const std::string& dir) {
  return storage::MakeDirs(storage::Env::Default(), dir);
}
inline bool PathExists(const std::string& path) {
  return storage::Env::Default()->FileExists(path);
}
inline bool IsDirectory(const std::string& path) {
  return storage::Env::Default()->IsDirectory(path);
}
inline absl::StatusOr<std::vector<std::string>> ListDir(
    const std::string& dir) {
  return storage::Env::Default()->ListDir(dir);
}
inline absl::Status EraseDirectory(const std::string& dir) {
  return storage::EraseDirectory(storage::Env::Default(), dir);
}

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_FILE_UTIL_H_
