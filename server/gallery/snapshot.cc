#include "server/gallery/snapshot.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/storage/byte_io.h"

namespace candor::gallery {

std::string EncodeSnapshot(const EntryTable& table,
                           const RequestIdCache& request_ids, uint64_t version,
                           EntryId next_id) {
  std::string out;
  out.reserve(64 + table.vectors().size() * sizeof(float) +
              table.size() * 32 + request_ids.size() * 48);
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
  w.Floats(table.vectors());
  w.U32(storage::Crc32(out));
  return out;
}

absl::StatusOr<SnapshotState> ReadSnapshot(storage::Env* env,
                                           const std::string& path,
                                           int dimension) {
  auto data = env->ReadFile(path);
  if (!data.ok()) return data.status();
  const absl::string_view bytes(*data);
  if (bytes.size() < 8 + 4 || std::memcmp(bytes.data(), kSnapshotMagic, 8)) {
    return absl::DataLossError(absl::StrCat(path, ": not a snapshot"));
  }
  const size_t body = bytes.size() - 4;
  if (storage::DecodeU32(bytes.data() + body) !=
      storage::Crc32(bytes.substr(0, body))) {
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
  if (format != kSnapshotFormatVersion) {
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
  const size_t dim_sz = static_cast<size_t>(dimension);
  std::vector<float> row(dim_sz);
  for (uint64_t i = 0; i < entry_count; ++i) {
    if (auto s = in.Floats(dim_sz, row.data()); !s.ok()) return s;
    if (state.table.Contains(ids[i])) {
      return absl::DataLossError(
          absl::StrCat(path, ": entry ", ids[i], " appears twice"));
    }
    state.table.Add(ids[i], subjects[i], groups[i], row.data());
  }
  if (in.remaining() != 0) {
    return absl::DataLossError(absl::StrCat(path, ": trailing bytes"));
  }
  return state;
}

}  // namespace candor::gallery
