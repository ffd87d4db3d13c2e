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

absl::StatusOr<RecoveredGallery> RecoverGallery(storage::Env* env,
                                                const std::string& dir) {
  using storage::JoinPath;
  RecoveredGallery out;
  auto manifest = ReadManifest(env, dir);
  if (!manifest.ok()) return manifest.status();
  out.manifest = std::move(*manifest);
  const int dim = out.manifest.config.index.dimension;
  out.state = SnapshotState(dim);

  auto names = env->ListDir(dir);
  if (!names.ok()) return names.status();
  std::vector<std::string> tmp_files;
  std::vector<uint64_t> snapshots, segments;
  for (const std::string& name : *names) {
    if (absl::EndsWith(name, kTmpSuffix)) {
      tmp_files.push_back(name);
    } else if (auto seq = ParseSnapshotFileName(name)) {
      snapshots.push_back(*seq);
    } else if (auto seq = ParseSegmentFileName(name)) {
      segments.push_back(*seq);
    }
  }
  std::sort(snapshots.begin(), snapshots.end());
  std::sort(segments.begin(), segments.end());

  // Reading and checking: nothing in `dir` changes until all of it holds
  // together, so a damaged gallery is quarantined exactly as found.
  uint64_t first_live = 1;
  if (!snapshots.empty()) {
    first_live = snapshots.back();
    auto state =
        ReadSnapshot(env, JoinPath(dir, SnapshotFileName(first_live)), dim);
    if (!state.ok()) return state.status();
    out.state = std::move(*state);
  }
  std::vector<uint64_t> covered, live;
  for (uint64_t seq : segments) (seq < first_live ? covered : live).push_back(seq);
  for (size_t i = 0; i < live.size(); ++i) {
    const uint64_t expected = i == 0 ? first_live : live[i - 1] + 1;
    if (live[i] != expected) {
      return absl::DataLossError(absl::StrCat(
          dir, ": log segment ", SegmentFileName(expected), " is missing"));
    }
  }
  uint64_t last_valid_bytes = 0;
  for (size_t i = 0; i < live.size(); ++i) {
    const std::string path = JoinPath(dir, SegmentFileName(live[i]));
    const bool last = i + 1 == live.size();
    auto read = ReadWalSegment(
        env, path, dim, last, [&](const WalRecord& record, uint64_t offset) {
          return ApplyWalRecord(record,
                                absl::StrCat(path, " at offset ", offset),
                                &out.state, &out.removed_entries);
        });
    if (!read.ok()) return read.status();
    if (last) {
      last_valid_bytes = read->valid_bytes;
      if (read->torn_bytes > 0) {
        out.dropped = {/*records=*/1, read->torn_bytes, path,
                       read->valid_bytes};
      }
    } else {
      out.older_segments_bytes += read->valid_bytes;
    }
  }

  // Repairs, now that the gallery is known to be whole.
  bool erased = false;
  for (const std::string& name : tmp_files) {
    // An atomic write that never finished; may hold vectors.
    if (auto s = env->EraseFile(JoinPath(dir, name)); !s.ok()) return s;
    erased = true;
  }
  for (size_t i = 0; i + 1 < snapshots.size(); ++i) {
    if (auto s = env->EraseFile(JoinPath(dir, SnapshotFileName(snapshots[i])));
        !s.ok()) {
      return s;
    }
    erased = true;
  }
  for (uint64_t seq : covered) {
    // Covered by the snapshot: left by an interrupted compaction.
    if (auto s = env->EraseFile(JoinPath(dir, SegmentFileName(seq))); !s.ok()) {
      return s;
    }
    erased = true;
  }
  if (erased) {
    if (auto s = env->SyncDir(dir); !s.ok()) return s;
  }
  if (live.empty()) {
    auto segment = WalWriter::Create(env, dir, first_live, dim);
    if (!segment.ok()) return segment.status();
    out.segment = std::move(*segment);
    return out;
  }
  if (out.dropped.bytes > 0) {
    LogWarning(absl::StrCat(
        out.dropped.file, ": dropping a torn final record (",
        out.dropped.bytes, " bytes at offset ", out.dropped.offset,
        "): a write cut short; if it had been acknowledged, the file was "
        "damaged since"));
    if (auto s = env->TruncateFile(out.dropped.file, out.dropped.offset);
        !s.ok()) {
      return s;
    }
  }
  auto segment =
      WalWriter::OpenForAppend(env, dir, live.back(), last_valid_bytes);
  if (!segment.ok()) return segment.status();
  out.segment = std::move(*segment);
  return out;
}

}  // namespace candor::gallery
