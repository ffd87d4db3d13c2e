// Path helpers and the multi-step file operations every durable file uses,
// built on Env alone (so a test Env sees, and can fail, each step).
#ifndef CANDOR_SERVER_STORAGE_FILES_H_
#define CANDOR_SERVER_STORAGE_FILES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/storage/env.h"

namespace candor::storage {

inline constexpr char kTmpSuffix[] = ".tmp";

// "<dir>/<name>".
std::string JoinPath(absl::string_view dir, absl::string_view name);
// The directory holding `path` ("." for a bare name).
std::string ParentDir(const std::string& path);

// An errno-based Status naming the operation and path.
absl::Status ErrnoStatus(absl::string_view op, absl::string_view path, int err);

// Writes `contents` to path + ".tmp", syncs and closes it (checking close),
// renames it over `path` and syncs the directory. Readers see the old file
// or the new, never a mix. On failure the .tmp file is erased (best
// effort: what it held may be sensitive) and `path` is left as it was,
// unless only the final directory sync failed, when `path` may be either.
absl::Status WriteFileAtomically(Env* env, const std::string& path,
                                 absl::string_view contents);
// The same, with the contents appended by `write` (for files too large to
// build in memory first).
absl::Status WriteFileAtomically(
    Env* env, const std::string& path,
    const std::function<absl::Status(WritableFile*)>& write);

// Creates `dir` and missing parents; OK if it exists.
absl::Status MakeDirs(Env* env, const std::string& dir);
// Erases every file in `dir` (EraseFile; subdirectories recursively),
// removes `dir` and syncs its parent.
absl::Status EraseDirectory(Env* env, const std::string& dir);
// Sum of the sizes of the files directly in `dir`.
absl::StatusOr<uint64_t> DirSizeBytes(Env* env, const std::string& dir);
// Erases every "*.tmp" file directly in `dir` (interrupted atomic writes,
// which may hold vectors) and syncs `dir` when one was there. Returns how
// many were erased.
absl::StatusOr<int> EraseTmpFiles(Env* env, const std::string& dir);

// A file kept per key (one per gallery: "<dir>/<key><suffix>").
struct KeyedFile {
  std::string key;
  std::string path;
};
// Creates `dir` if needed and lists the files in it named <key><suffix>.
// Unavailable naming `dir` when it cannot be created or read.
absl::StatusOr<std::vector<KeyedFile>> OpenKeyedFiles(Env* env,
                                                      const std::string& dir,
                                                      absl::string_view suffix);
// Removes the file kept for a key (best effort: a file that stays is
// replaced by the next write of that key) and syncs `dir` when it went.
void RemoveKeyedFile(Env* env, const std::string& dir, const std::string& path);

}  // namespace candor::storage

#endif  // CANDOR_SERVER_STORAGE_FILES_H_
