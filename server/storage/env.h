// The one file layer under every durable file candor keeps (write-ahead log
// segments, snapshots, manifests, calibrations, the audit log, its
// checkpoint and key), in the shape of LevelDB's Env: every operation that
// can fail returns a Status naming the operation and the path, and nothing
// above this layer calls open(2), write(2), fsync(2) or rename(2) itself.
//
// Env::Default() is the POSIX implementation. Tests substitute an Env that
// fails chosen operations and simulates power loss (tests/storage), which
// is why everything that writes takes an Env* instead of calling POSIX.
//
// Durability contract (what callers rely on, and what the test Env models):
//   - bytes appended to a WritableFile are durable only after its Sync();
//   - a file's creation, rename or removal is durable only after SyncDir()
//     of its directory.
#ifndef CANDOR_SERVER_STORAGE_ENV_H_
#define CANDOR_SERVER_STORAGE_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace candor::storage {

// A file open for appending. Append and Sync may run on different threads
// at once (a group-commit leader syncs while others append); everything
// else is called by one thread at a time.
class WritableFile {
 public:
  virtual ~WritableFile() = default;

  // Appends all of `data` (write(2) into the page cache).
  virtual absl::Status Append(absl::string_view data) = 0;
  // Makes every byte appended before the call durable (fdatasync(2)).
  virtual absl::Status Sync() = 0;
  // Cuts the file to `size` bytes and makes that durable (ftruncate(2) +
  // fsync(2)); later appends continue from `size` (files are opened
  // O_APPEND).
  virtual absl::Status Truncate(uint64_t size) = 0;
  // Closes the file and reports a deferred write error (close(2) can).
  // Later calls fail. The destructor closes a file not yet closed.
  virtual absl::Status Close() = 0;

  virtual const std::string& path() const = 0;
};

// A file's bytes mapped read-only into memory (mmap(2), MAP_SHARED): the
// kernel pages them in on use and may drop clean pages under memory
// pressure, so they do not count as the process's own memory. The bytes
// are the file's as long as nothing writes it: callers must stop reading
// a mapping before they overwrite or cut its file (EraseFile writes zeros
// through to every mapping of the file; a cut one raises SIGBUS).
// Unmapped on destruction. Thread-safe (read-only).
class MappedFile {
 public:
  virtual ~MappedFile() = default;
  virtual absl::string_view bytes() const = 0;
  virtual const std::string& path() const = 0;
  // Drops the file's pages from memory (posix_fadvise DONTNEED); later
  // reads page them in again. A hint: never fails.
  virtual void ReleasePages() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // The POSIX Env (a process-wide singleton, never destroyed).
  static Env* Default();

  // Creates `path` (replacing any file there, mode 0600) for writing.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) = 0;
  // Opens an existing file for appending at its end.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) = 0;

  // The whole file; NotFound when it does not exist.
  virtual absl::StatusOr<std::string> ReadFile(const std::string& path) = 0;
  // The whole file mapped read-only (see MappedFile); NotFound when it
  // does not exist. The mapping is taken at the file's size now.
  virtual absl::StatusOr<std::shared_ptr<const MappedFile>> MapFile(
      const std::string& path) = 0;
  virtual absl::StatusOr<uint64_t> FileSize(const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual bool IsDirectory(const std::string& path) = 0;
  // Names in `dir` (no "." or ".."), sorted.
  virtual absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& dir) = 0;

  // rename(2): atomically replaces `to`.
  virtual absl::Status RenameFile(const std::string& from,
                                  const std::string& to) = 0;
  // link(2): like RenameFile but AlreadyExists instead of replacing `to`;
  // `from` stays.
  virtual absl::Status LinkFile(const std::string& from,
                                const std::string& to) = 0;
  // fsync(2) of a directory: makes creations, renames and removals in it
  // durable.
  virtual absl::Status SyncDir(const std::string& dir) = 0;
  // unlink(2).
  virtual absl::Status RemoveFile(const std::string& path) = 0;
  // Overwrites the whole file with zeros, fsyncs it, then unlinks it: for
  // files that held biometric vectors. The caller syncs the directory
  // (once, after erasing several files).
  virtual absl::Status EraseFile(const std::string& path) = 0;
  // Cuts a closed file to `size` bytes and fsyncs it.
  virtual absl::Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // mkdir(2) of one level, mode 0700; AlreadyExists if it exists.
  virtual absl::Status CreateDir(const std::string& dir) = 0;
  // rmdir(2) of an empty directory.
  virtual absl::Status RemoveDir(const std::string& dir) = 0;
};

}  // namespace candor::storage

#endif  // CANDOR_SERVER_STORAGE_ENV_H_
