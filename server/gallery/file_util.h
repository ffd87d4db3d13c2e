// POSIX file helpers with the durability the gallery needs: fsync of files
// and directories, atomic replacement (tmp + fsync + rename + fsync dir),
// and erasure (overwrite with zeros, fsync, unlink) for files that held
// biometric vectors.
#ifndef CANDOR_SERVER_GALLERY_FILE_UTIL_H_
#define CANDOR_SERVER_GALLERY_FILE_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace candor::gallery {

// "<dir>/<name>".
std::string JoinPath(absl::string_view dir, absl::string_view name);
// The directory holding `path` ("." for a bare name).
std::string ParentDir(const std::string& path);

// An errno-based Status naming the operation and path.
absl::Status ErrnoStatus(absl::string_view op, absl::string_view path, int err);

absl::Status FsyncDir(const std::string& dir);
// Creates `dir` (one level); AlreadyExists if it exists.
absl::Status MakeDir(const std::string& dir);
// Creates `dir` and missing parents; OK if it exists.
absl::Status MakeDirs(const std::string& dir);
bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);

// Writes `contents` to path + ".tmp", fsyncs it, renames it over `path` and
// fsyncs the directory. Readers see the old file or the new, never a mix.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents);

absl::StatusOr<std::string> ReadFile(const std::string& path);
absl::StatusOr<uint64_t> FileSizeBytes(const std::string& path);

// Entry names in `dir` (no "." or ".."), sorted.
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir);
// Sum of the sizes of the regular files directly in `dir`.
absl::StatusOr<uint64_t> DirSizeBytes(const std::string& dir);

// Overwrites the whole file with zeros, fsyncs it, then unlinks it. The
// caller fsyncs the directory (once, after erasing several files).
absl::Status EraseFile(const std::string& path);
// Erases every regular file in `dir`, removes `dir` and fsyncs its parent.
absl::Status EraseDirectory(const std::string& dir);

// Shrinks the file to `size_bytes` and fsyncs it.
absl::Status TruncateFile(const std::string& path, uint64_t size_bytes);

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_FILE_UTIL_H_
