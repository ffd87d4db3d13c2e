// An Env for tests that fails chosen operations and simulates power loss,
// after LevelDB's FaultInjectionTestEnv. It passes every operation to a
// real Env (files live in a real directory) and remembers what the
// durability contract (env.h) has not yet made durable:
//   - per file written through it, how many of its bytes are synced;
//   - per directory, the creations, renames and removals not yet covered
//     by a SyncDir of that directory.
// PowerLoss() then rewrites the directory to what a machine that lost
// power at that moment could find: unsynced bytes dropped (or the last
// unsynced sector torn), unsynced renames, creations and removals undone.
// Reopening the files afterwards (with Env::Default() or a fresh
// FaultEnv) is recovery from that state.
//
// Faults: every mutating operation is counted, by kind and in all; a fault
// fails the Nth operation of one kind (or of all), once or from then on,
// without doing it. Thread-safe.
#ifndef CANDOR_TESTS_STORAGE_FAULT_ENV_H_
#define CANDOR_TESTS_STORAGE_FAULT_ENV_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/storage/env.h"

namespace candor::storage::testing {

// What is counted (each mutating Env or WritableFile call is one).
enum class Op {
  kCreate,    // NewWritableFile / NewAppendableFile / CreateDir
  kAppend,    // WritableFile::Append
  kSync,      // WritableFile::Sync
  kTruncate,  // WritableFile::Truncate / TruncateFile
  kClose,     // WritableFile::Close
  kRename,    // RenameFile / LinkFile
  kSyncDir,   // SyncDir
  kRemove,    // RemoveFile / EraseFile / RemoveDir
};
inline constexpr int kOpKinds = 8;
const char* OpName(Op op);

class FaultEnv final : public Env {
 public:
  // What happens to unsynced bytes at a power loss.
  enum class Loss {
    // Every unsynced byte is gone.
    kDropUnsynced,
    // Unsynced bytes survive up to the last sector boundary before the
    // file's end (512-byte sectors); that last sector reads as zeros
    // (space allocated, data never written).
    kTearZero,
    // As kTearZero, but the last sector holds garbage.
    kTearGarbage,
  };

  explicit FaultEnv(Env* base = Env::Default());
  ~FaultEnv() override;

  // Fails the `n`th (1-based) operation of `kind` counted from now (all
  // kinds when nullopt) with an injected error; when `persistent`, every
  // later operation of that kind fails too. Replaces any earlier fault.
  void FailAt(uint64_t n, std::optional<Op> kind, bool persistent = false);
  // No more faults.
  void ClearFaults();
  // Whether the armed fault has fired, and on which kind of operation
  // (first firing).
  bool fault_fired() const;
  std::optional<Op> fired_kind() const;
  // Operations counted so far (by kind, and all).
  uint64_t count(Op kind) const;
  uint64_t total_ops() const;

  // The machine loses power now: from here every mutating operation fails
  // (so objects can be destroyed without writing), and the directory
  // trees written through this Env are rewritten to a state the lost
  // writes could leave (see above). `seed` picks the garbage bytes.
  void PowerLoss(Loss loss, uint32_t seed = 1);

  // Env.
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) override;
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) override;
  absl::StatusOr<std::string> ReadFile(const std::string& path) override;
  absl::StatusOr<std::shared_ptr<const MappedFile>> MapFile(
      const std::string& path) override;
  absl::StatusOr<uint64_t> FileSize(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  bool IsDirectory(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& dir) override;
  absl::Status RenameFile(const std::string& from,
                          const std::string& to) override;
  absl::Status LinkFile(const std::string& from,
                        const std::string& to) override;
  absl::Status SyncDir(const std::string& dir) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status EraseFile(const std::string& path) override;
  absl::Status TruncateFile(const std::string& path, uint64_t size) override;
  absl::Status CreateDir(const std::string& dir) override;
  absl::Status RemoveDir(const std::string& dir) override;

 private:
  class File;
  friend class File;

  // A file's durable length as far as this Env knows.
  struct FileState {
    uint64_t size = 0;    // bytes written so far
    uint64_t synced = 0;  // bytes known durable
  };
  // A directory change not yet made durable by SyncDir.
  struct DirOp {
    enum Kind { kCreateFile, kCreateDir, kRename, kRemove } kind;
    std::string path;  // created / removed / rename target
    std::string from;  // rename source
    // kRename: what `path` durably held before (when it existed).
    // kRemove: what the removed file durably held.
    std::optional<std::string> old_contents;
    FileState old_state;
  };

  // Counts one operation; the injected error when it is to fail.
  absl::Status Count(Op kind, const std::string& what) ABSL_LOCKS_EXCLUDED(mu_);
  // The durable contents of a file now (its synced prefix).
  std::string DurableContents(const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void NoteDirOp(DirOp op) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void NoteAppend(const std::string& path, uint64_t bytes);
  void NoteSync(const std::string& path, uint64_t size);
  void NoteTruncate(const std::string& path, uint64_t size);

  Env* const base_;
  mutable absl::Mutex mu_;
  std::array<uint64_t, kOpKinds> counts_ ABSL_GUARDED_BY(mu_) = {};
  uint64_t total_ ABSL_GUARDED_BY(mu_) = 0;
  // The armed fault: fires when the counter of its kind reaches `at`.
  std::optional<Op> fault_kind_ ABSL_GUARDED_BY(mu_);
  uint64_t fault_at_ ABSL_GUARDED_BY(mu_) = 0;
  bool fault_armed_ ABSL_GUARDED_BY(mu_) = false;
  bool fault_persistent_ ABSL_GUARDED_BY(mu_) = false;
  bool fault_fired_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<Op> fired_kind_ ABSL_GUARDED_BY(mu_);
  bool powered_off_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, FileState> files_ ABSL_GUARDED_BY(mu_);
  // By directory, oldest first.
  std::map<std::string, std::vector<DirOp>> dir_ops_ ABSL_GUARDED_BY(mu_);
};

}  // namespace candor::storage::testing

#endif  // CANDOR_TESTS_STORAGE_FAULT_ENV_H_
