// One named gallery: its entries (ids, subjects, groups, vectors) in memory,
// its index, and its durable state in a directory (snapshot + write-ahead
// log). Thread-safe: searches share a reader lock, mutations take the writer
// lock after their log record is durable.
#ifndef CANDOR_SERVER_GALLERY_GALLERY_H_
#define CANDOR_SERVER_GALLERY_GALLERY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/common/types.h"
#include "server/index/index_factory.h"
#include "server/storage/env.h"

namespace candor::gallery {

// What a gallery is, fixed at creation and persisted in its manifest.
struct GalleryConfig {
  std::string name;
  index::IndexConfig index;
  // Opaque per-gallery settings owned by upper layers (policy override as
  // serialized text); persisted with the manifest, never interpreted here.
  std::string policy_blob;
  int64_t created_at_us = 0;
};

struct GalleryOptions {
  // Backend for this gallery's index (already resolved, never kAuto).
  index::Backend backend = index::Backend::kCpu;
  // fsync the write-ahead log before acknowledging (off only in tests that
  // measure something else).
  bool sync_wal = true;
  // Compact automatically this long after the first removal since the last
  // compaction (bounds how long a removed vector stays on disk).
  absl::Duration compaction_delay = absl::Seconds(60);
  // Also compact when the log has grown past this many bytes.
  uint64_t max_wal_bytes = uint64_t{1} << 30;
  // Called after each write-ahead log fsync with its duration (metrics),
  // from the writer's thread and outside every lock; may be empty.
  std::function<void(absl::Duration)> on_wal_sync;
  // Every file of the gallery is read and written through this (tests
  // pass one that injects faults). Not owned; outlives the gallery.
  storage::Env* env = storage::Env::Default();
};

struct EnrollResult {
  std::vector<EntryId> entry_ids;
  uint64_t version = 0;
  // The request id had been applied before; nothing changed.
  bool replayed = false;
};

struct RemoveResult {
  std::vector<EntryId> removed;
  uint64_t version = 0;
};

struct CompactResult {
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;
  uint64_t erased_entries = 0;
};

struct GalleryInfo {
  GalleryConfig config;
  std::string backend;
  uint64_t size = 0;
  uint64_t subjects = 0;
  // Live entries per group label ("" = none).
  std::map<std::string, uint64_t> groups;
  uint64_t version = 0;
  MemoryBytes memory;
  bool trained = true;
  // Removed entries whose vectors are still in files on disk (erased by
  // the next compaction that succeeds).
  uint64_t erasure_backlog_entries = 0;
  // Automatic compactions that failed (each also logged).
  uint64_t compaction_failures = 0;
};

struct EntryMeta {
  EntryId id = 0;
  std::string subject_id;
  std::string group;
};

struct RecoveryDropped;  // recovery.h

class Gallery {
 public:
  // Creates the gallery's directory `dir` (must not exist) and its manifest.
  static absl::StatusOr<std::unique_ptr<Gallery>> Create(
      const std::string& dir, const GalleryConfig& config,
      const GalleryOptions& options);
  // Opens an existing gallery directory, restoring the snapshot and
  // replaying the log; a torn final log record is dropped and, when
  // `dropped` is given, described there (records, bytes, file, offset).
  // DataLoss, with the directory untouched, for any other damage.
  static absl::StatusOr<std::unique_ptr<Gallery>> Open(
      const std::string& dir, const GalleryOptions& options,
      RecoveryDropped* dropped = nullptr);

  ~Gallery();
  Gallery(const Gallery&) = delete;
  Gallery& operator=(const Gallery&) = delete;

  const std::string& name() const;
  int dimension() const;
  // When the gallery was created (microseconds since the epoch), as
  // configured or stamped at creation. Not an identity: a gallery deleted
  // and re-created may get the same value; the object itself is one.
  int64_t created_at_us() const;

  // vectors: subject_ids.size() rows, host memory, already L2-normalized.
  // groups: empty or one per row. request_id: "" or an idempotency key.
  // Returns once the log record is fsync'd.
  absl::StatusOr<EnrollResult> Enroll(absl::Span<const float> vectors,
                                      const std::vector<std::string>& subject_ids,
                                      const std::vector<std::string>& groups,
                                      const std::string& request_id);
  // NotFound (nothing removed) if any id is not live.
  absl::StatusOr<RemoveResult> RemoveEntries(absl::Span<const EntryId> ids);
  // NotFound if the subject has no live entries.
  absl::StatusOr<RemoveResult> RemoveSubject(const std::string& subject_id);

  // probes: queries.size() rows, L2-normalized (or only checked, when
  // normalizes_probes(): see Index::NormalizesProbes). Candidates per probe,
  // with metadata, as Index::Search orders them, and the gallery version
  // searched (no timings: the batcher stamps those).
  absl::StatusOr<SearchOutcome> Search(
      absl::Span<const float> probes,
      absl::Span<const ProbeQuery> queries) const;

  // Writes a new snapshot of the live entries, then deletes every older
  // snapshot and log segment: afterwards no removed vector is in any file.
  absl::StatusOr<CompactResult> Compact();

  // Trains the (IVF) index on the current vectors and rebuilds it.
  absl::Status TrainIndex(int nlist);

  // Everything about the gallery; scans the entries (memory figures), so
  // not for per-request paths, which use the accessors below.
  GalleryInfo Info() const;
  // Live entries, the index backend's name and the policy blob: O(1).
  uint64_t size() const;
  std::string backend() const;
  // Whether Search normalizes probes itself (Index::NormalizesProbes).
  bool normalizes_probes() const;
  std::string policy_blob() const;
  // Metadata of live entries (for self-audit sampling); optional filter.
  std::vector<EntryMeta> Entries() const;
  // Copies the live vector of `id` into out (dimension() floats).
  absl::Status GetVector(EntryId id, float* out) const;

  // Replaces the opaque policy blob (persisted durably).
  absl::Status SetPolicyBlob(const std::string& blob);

  // Deletes the gallery's files. The object must not be used afterwards.
  absl::Status DestroyFiles();

  // Runs a due automatic compaction (called periodically by the store).
  absl::Status MaybeCompact(absl::Time now);

 private:
  class Impl;
  explicit Gallery(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_GALLERY_H_
