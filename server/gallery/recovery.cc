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
  std::vector<uint64_t> snapshots, segments;
  bool erased = false;
  for (const std::string& name : *names) {
    if (absl::EndsWith(name, kTmpSuffix)) {
      // An atomic write that never finished; may hold vectors.
      if (auto s = env->EraseFile(JoinPath(dir, name)); !s.ok()) return s;
      erased = true;
    } else if (auto seq = ParseSnapshotFileName(name)) {
      snapshots.push_back(*seq);
    } else if (auto seq = ParseSegmentFileName(name)) {
      segments.push_back(*seq);
    }
  }
  std::sort(snapshots.begin(), snapshots.end());
  std::sort(segments.begin(), segments.end());

  uint64_t first_live = 1;
  if (!snapshots.empty()) {
    first_live = snapshots.back();
    auto state =
        ReadSnapshot(env, JoinPath(dir, SnapshotFileName(first_live)), dim);
    if (!state.ok()) return state.status();
    out.state = std::move(*state);
    for (size_t i = 0; i + 1 < snapshots.size(); ++i) {
      if (auto s = env->EraseFile(JoinPath(dir, SnapshotFileName(snapshots[i])));
          !s.ok()) {
        return s;
      }
      erased = true;
    }
  }
  std::vector<uint64_t> live;
  for (uint64_t seq : segments) {
    if (seq < first_live) {
      // Covered by the snapshot: left by an interrupted compaction.
      if (auto s = env->EraseFile(JoinPath(dir, SegmentFileName(seq))); !s.ok()) {
        return s;
      }
      erased = true;
    } else {
      live.push_back(seq);
    }
  }
  if (erased) {
    if (auto s = env->SyncDir(dir); !s.ok()) return s;
  }
  for (size_t i = 0; i < live.size(); ++i) {
    const uint64_t expected = i == 0 ? first_live : live[i - 1] + 1;
    if (live[i] != expected) {
      return absl::DataLossError(absl::StrCat(
          dir, ": log segment ", SegmentFileName(expected), " is missing"));
    }
  }
  if (live.empty()) {
    auto segment = WalWriter::Create(env, dir, first_live, dim);
    if (!segment.ok()) return segment.status();
    out.segment = std::move(*segment);
    return out;
  }

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
    if (read->torn_bytes > 0) {
      LogWarning(absl::StrCat(path, ": dropping a torn final record (",
                              read->torn_bytes, " bytes at offset ",
                              read->valid_bytes, ")"));
      if (auto s = env->TruncateFile(path, read->valid_bytes); !s.ok()) return s;
    }
    if (last) {
      auto segment = WalWriter::OpenForAppend(env, dir, live[i],
                                               read->valid_bytes);
      if (!segment.ok()) return segment.status();
      out.segment = std::move(*segment);
    } else {
      out.older_segments_bytes += read->valid_bytes;
    }
  }
  return out;
}

}  // namespace candor::gallery
