#include "server/gallery/snapshot.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/storage/byte_io.h"
#include "server/storage/files.h"

namespace candor::gallery {

namespace {

// Rows per write: about 8 MiB of 512-float rows per Append.
constexpr size_t kRowsPerChunk = 4096;

// Emits the snapshot's bytes in order, a bounded piece at a time, ending
// with the checksum of everything before it.
absl::Status EmitSnapshot(
    const SnapshotSource& source,
    const std::function<absl::Status(absl::string_view)>& emit) {
  uint32_t crc = storage::Crc32(source.head);
  if (auto s = emit(source.head); !s.ok()) return s;
  const size_t row_bytes = source.dimension * sizeof(float);
  std::string chunk;
  for (size_t first = 0; first < source.rows.size(); first += kRowsPerChunk) {
    const size_t n = std::min(kRowsPerChunk, source.rows.size() - first);
    chunk.resize(n * row_bytes);
    for (size_t i = 0; i < n; ++i) {
      std::memcpy(chunk.data() + i * row_bytes, source.rows[first + i].get(),
                  row_bytes);
    }
    crc = storage::Crc32(chunk, crc);
    if (auto s = emit(chunk); !s.ok()) return s;
  }
  std::string tail(4, '\0');
  storage::EncodeU32(crc, tail.data());
  return emit(tail);
}

}  // namespace

SnapshotSource CaptureSnapshot(const EntryTable& table,
                               const RequestIdCache& request_ids,
                               uint64_t version, EntryId next_id) {
  SnapshotSource source;
  source.dimension = static_cast<size_t>(table.dimension());
  std::string& out = source.head;
  out.reserve(64 + table.size() * 32 + request_ids.size() * 48);
  out.append(kSnapshotMagic, 8);
  storage::ByteWriter w(&out);
  w.U32(kSnapshotFormatVersion);
  w.U32(static_cast<uint32_t>(table.dimension()));
  w.U64(version);
  w.U64(next_id);
  w.U64(request_ids.size());
  w.U64(table.size());
  request_ids.ForEach(
      [&w](const std::string& key, const RequestIdCache::Applied& a) {
        w.Str(key);
        w.U64(a.first_id);
        w.U32(a.count);
      });
  for (size_t row = 0; row < table.size(); ++row) {
    w.U64(table.id_at(row));
    w.Str(table.subject_at(row));
    w.Str(table.group_at(row));
  }
  out.resize((out.size() + kSnapshotVectorAlignment - 1) /
                 kSnapshotVectorAlignment * kSnapshotVectorAlignment,
             '\0');
  source.rows = table.ShareRows();
  return source;
}

absl::Status WriteSnapshot(storage::Env* env, const std::string& path,
                           const SnapshotSource& source) {
  return storage::WriteFileAtomically(
      env, path, [&source](storage::WritableFile* file) {
        return EmitSnapshot(source, [file](absl::string_view bytes) {
          return file->Append(bytes);
        });
      });
}

std::string EncodeSnapshot(const EntryTable& table,
                           const RequestIdCache& request_ids, uint64_t version,
                           EntryId next_id) {
  std::string out;
  EmitSnapshot(CaptureSnapshot(table, request_ids, version, next_id),
               [&out](absl::string_view bytes) {
                 out.append(bytes.data(), bytes.size());
                 return absl::OkStatus();
               })
      .IgnoreError();  // appending to a string cannot fail
  return out;
}

absl::StatusOr<SnapshotState> ReadSnapshot(storage::Env* env,
                                           const std::string& path,
                                           int dimension) {
  auto file = env->MapFile(path);
  if (!file.ok()) return file.status();
  const absl::string_view bytes = (*file)->bytes();
  if (bytes.size() < 8 + 4 || std::memcmp(bytes.data(), kSnapshotMagic, 8)) {
    return absl::DataLossError(absl::StrCat(path, ": not a snapshot"));
  }
  const size_t body = bytes.size() - 4;
  const bool intact = storage::DecodeU32(bytes.data() + body) ==
                      storage::Crc32(bytes.substr(0, body));
  // The checksum paged the whole file in; rows are read back on demand.
  (*file)->ReleasePages();
  if (!intact) {
    return absl::DataLossError(absl::StrCat(path, ": checksum mismatch"));
  }
  storage::ByteReader in(bytes.substr(8, body - 8), path);
  uint32_t format, dim;
  SnapshotState state(dimension);
  uint64_t request_count, entry_count;
  for (auto s : {in.U32(&format), in.U32(&dim), in.U64(&state.version),
                 in.U64(&state.next_id), in.U64(&request_count),
                 in.U64(&entry_count)}) {
    if (!s.ok()) return s;
  }
  if (format != 1 && format != kSnapshotFormatVersion) {
    return absl::DataLossError(
        absl::StrCat(path, ": unsupported snapshot format ", format));
  }
  if (dim != static_cast<uint32_t>(dimension)) {
    return absl::DataLossError(absl::StrCat(path, ": dimension ", dim,
                                            ", gallery has ", dimension));
  }
  for (uint64_t i = 0; i < request_count; ++i) {
    std::string key;
    RequestIdCache::Applied a;
    for (auto s : {in.Str(&key), in.U64(&a.first_id), in.U32(&a.count)}) {
      if (!s.ok()) return s;
    }
    state.request_ids.Insert(key, a);
  }
  // Every entry takes at least 16 bytes: bound the count before reserving.
  if (entry_count > in.remaining() / 16) {
    return absl::DataLossError(
        absl::StrCat(path, ": bad entry count ", entry_count));
  }
  std::vector<EntryId> ids(entry_count);
  std::vector<std::string> subjects(entry_count), groups(entry_count);
  for (uint64_t i = 0; i < entry_count; ++i) {
    for (auto s : {in.U64(&ids[i]), in.Str(&subjects[i]), in.Str(&groups[i])}) {
      if (!s.ok()) return s;
    }
  }
  if (format >= 2) {
    const size_t at = 8 + in.offset();
    const size_t pad = (kSnapshotVectorAlignment - at % kSnapshotVectorAlignment) %
                       kSnapshotVectorAlignment;
    if (auto s = in.Skip(pad); !s.ok()) return s;
  }
  const size_t dim_sz = static_cast<size_t>(dimension);
  if (in.remaining() != entry_count * dim_sz * sizeof(float)) {
    return absl::DataLossError(absl::StrCat(
        path, ": ", in.remaining(), " bytes of vectors for ", entry_count,
        " entries of dimension ", dimension));
  }
  const char* vectors = bytes.data() + 8 + in.offset();
  // Format 2 rows are used in place (the padding aligns them); format 1
  // rows may sit at any offset and are copied.
  const bool in_place =
      reinterpret_cast<uintptr_t>(vectors) % alignof(float) == 0 && format >= 2;
  std::vector<float> row(dim_sz);
  for (uint64_t i = 0; i < entry_count; ++i) {
    if (state.table.Contains(ids[i])) {
      return absl::DataLossError(
          absl::StrCat(path, ": entry ", ids[i], " appears twice"));
    }
    const char* at = vectors + i * dim_sz * sizeof(float);
    if (in_place) {
      // Aliases the mapping: the row keeps the file mapped.
      state.table.AddShared(
          ids[i], subjects[i], groups[i],
          std::shared_ptr<const float>(*file,
                                       reinterpret_cast<const float*>(at)));
    } else {
      std::memcpy(row.data(), at, dim_sz * sizeof(float));
      state.table.Add(ids[i], subjects[i], groups[i], row.data());
    }
  }
  return state;
}

}  // namespace candor::gallery
