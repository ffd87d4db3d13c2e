#include "server/gallery/recovery.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/gallery/layout.h"
#include "server/gallery/log.h"
#include "server/gallery/wal_format.h"
#include "server/storage/files.h"

namespace candor::gallery {

absl::Status ApplyWalRecord(const WalRecord& record, const std::string& where,
                            SnapshotState* state, uint64_t* removed_entries) {
  EntryTable& table = state->table;
  if (record.kind == WalRecord::Kind::kEnroll) {
    const size_t dim = static_cast<size_t>(table.dimension());
    const size_t rows = record.subject_ids.size();
    for (size_t i = 0; i < rows; ++i) {
      const EntryId id = record.first_id + i;
      if (id < state->next_id || table.Contains(id)) {
        return absl::DataLossError(
            absl::StrCat(where, ": enrolls entry ", id, " again"));
      }
    }
    for (size_t i = 0; i < rows; ++i) {
      table.Add(record.first_id + i, record.subject_ids[i], record.groups[i],
                record.vectors.data() + i * dim);
    }
    state->next_id = record.first_id + rows;
    if (!record.request_id.empty()) {
      state->request_ids.Insert(
          record.request_id,
          {record.first_id, static_cast<uint32_t>(rows), /*ticket=*/0});
    }
  } else {
    for (EntryId id : record.removed_ids) {
      if (!table.Remove(id)) {
        return absl::DataLossError(
            absl::StrCat(where, ": removes unknown entry ", id));
      }
    }
    *removed_entries += record.removed_ids.size();
  }
  ++state->version;
  return absl::OkStatus();
}

namespace {

using storage::JoinPath;

// What a gallery directory holds besides its manifest, sequence numbers in
// ascending order.
struct GalleryFiles {
  std::vector<std::string> tmp_files;
  std::vector<uint64_t> snapshots;
  std::vector<uint64_t> segments;
};

absl::StatusOr<GalleryFiles> ListGalleryFiles(storage::Env* env,
                                              const std::string& dir) {
  auto names = env->ListDir(dir);
  if (!names.ok()) return names.status();
  GalleryFiles files;
  for (const std::string& name : *names) {
    if (absl::EndsWith(name, kTmpSuffix)) {
      files.tmp_files.push_back(name);
    } else if (auto seq = ParseSnapshotFileName(name)) {
      files.snapshots.push_back(*seq);
    } else if (auto seq = ParseSegmentFileName(name)) {
      files.segments.push_back(*seq);
    }
  }
  std::sort(files.snapshots.begin(), files.snapshots.end());
  std::sort(files.segments.begin(), files.segments.end());
  return files;
}

// The log segments the newest snapshot (sequence first_live, 1 without
// one) does not cover, which must follow it without a gap, and those it
// covers, left by an interrupted compaction.
struct SegmentSplit {
  std::vector<uint64_t> covered;
  std::vector<uint64_t> live;
};

absl::StatusOr<SegmentSplit> SplitSegments(
    const std::string& dir, const std::vector<uint64_t>& segments,
    uint64_t first_live) {
  SegmentSplit split;
  for (uint64_t seq : segments) {
    (seq < first_live ? split.covered : split.live).push_back(seq);
  }
  for (size_t i = 0; i < split.live.size(); ++i) {
    const uint64_t expected = i == 0 ? first_live : split.live[i - 1] + 1;
    if (split.live[i] != expected) {
      return absl::DataLossError(absl::StrCat(
          dir, ": log segment ", SegmentFileName(expected), " is missing"));
    }
  }
  return split;
}

// Applies the live segments to out->state in order; a torn final record of
// the newest one goes to out->dropped. Returns the newest segment's valid
// bytes (where appending resumes).
absl::StatusOr<uint64_t> ReplaySegments(storage::Env* env,
                                        const std::string& dir, int dim,
                                        const std::vector<uint64_t>& live,
                                        RecoveredGallery* out) {
  uint64_t last_valid_bytes = 0;
  for (size_t i = 0; i < live.size(); ++i) {
    const std::string path = JoinPath(dir, SegmentFileName(live[i]));
    const bool last = i + 1 == live.size();
    auto read = ReadWalSegment(
        env, path, dim, last, [&](const WalRecord& record, uint64_t offset) {
          return ApplyWalRecord(record,
                                absl::StrCat(path, " at offset ", offset),
                                &out->state, &out->removed_entries);
        });
    if (!read.ok()) return read.status();
    if (last) {
      last_valid_bytes = read->valid_bytes;
      if (read->torn_bytes > 0) {
        out->dropped = {/*records=*/1, read->torn_bytes, path,
                        read->valid_bytes};
      }
    } else {
      out->older_segments_bytes += read->valid_bytes;
    }
  }
  return last_valid_bytes;
}

// Erases what the gallery no longer needs, any of which may hold vectors:
// unfinished atomic writes, snapshots older than the newest, and segments
// that snapshot covers.
absl::Status EraseLeftovers(storage::Env* env, const std::string& dir,
                            const GalleryFiles& files,
                            const std::vector<uint64_t>& covered) {
  std::vector<std::string> leftovers = files.tmp_files;
  for (size_t i = 0; i + 1 < files.snapshots.size(); ++i) {
    leftovers.push_back(SnapshotFileName(files.snapshots[i]));
  }
  for (uint64_t seq : covered) leftovers.push_back(SegmentFileName(seq));
  for (const std::string& name : leftovers) {
    if (auto s = env->EraseFile(JoinPath(dir, name)); !s.ok()) return s;
  }
  if (leftovers.empty()) return absl::OkStatus();
  return env->SyncDir(dir);
}

// Cuts the torn final record that replay found, if any, from the newest
// segment.
absl::Status TruncateTornRecord(storage::Env* env,
                                const RecoveryDropped& dropped) {
  if (dropped.bytes == 0) return absl::OkStatus();
  LogWarning(absl::StrCat(
      dropped.file, ": dropping a torn final record (", dropped.bytes,
      " bytes at offset ", dropped.offset,
      "): a write cut short; if it had been acknowledged, the file was "
      "damaged since"));
  return env->TruncateFile(dropped.file, dropped.offset);
}

}  // namespace

absl::StatusOr<RecoveredGallery> RecoverGallery(storage::Env* env,
                                                const std::string& dir) {
  RecoveredGallery out;
  auto manifest = ReadManifest(env, dir);
  if (!manifest.ok()) return manifest.status();
  out.manifest = std::move(*manifest);
  const int dim = out.manifest.config.index.dimension;
  out.state = SnapshotState(dim);
  auto files = ListGalleryFiles(env, dir);
  if (!files.ok()) return files.status();

  // Reading and checking: nothing in `dir` changes until all of it holds
  // together, so a damaged gallery is quarantined exactly as found.
  uint64_t first_live = 1;
  if (!files->snapshots.empty()) {
    first_live = files->snapshots.back();
    auto state =
        ReadSnapshot(env, JoinPath(dir, SnapshotFileName(first_live)), dim);
    if (!state.ok()) return state.status();
    out.state = std::move(*state);
  }
  auto segments = SplitSegments(dir, files->segments, first_live);
  if (!segments.ok()) return segments.status();
  auto last_valid_bytes = ReplaySegments(env, dir, dim, segments->live, &out);
  if (!last_valid_bytes.ok()) return last_valid_bytes.status();

  // Repairs, now that the gallery is known to be whole.
  if (auto s = EraseLeftovers(env, dir, *files, segments->covered); !s.ok()) {
    return s;
  }
  if (segments->live.empty()) {
    auto segment = WalWriter::Create(env, dir, first_live, dim);
    if (!segment.ok()) return segment.status();
    out.segment = std::move(*segment);
    return out;
  }
  if (auto s = TruncateTornRecord(env, out.dropped); !s.ok()) return s;
  auto segment = WalWriter::OpenForAppend(env, dir, segments->live.back(),
                                          *last_valid_bytes);
  if (!segment.ok()) return segment.status();
  out.segment = std::move(*segment);
  return out;
}

}  // namespace candor::gallery
