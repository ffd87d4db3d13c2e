#include "server/gallery/wal_format.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/storage/byte_io.h"
#include "server/storage/record.h"

namespace candor::gallery {
namespace {

absl::StatusOr<WalRecord> DecodePayload(absl::string_view payload,
                                        int dimension,
                                        const std::string& what) {
  storage::ByteReader in(payload, what);
  WalRecord r;
  uint8_t kind;
  if (auto s = in.U8(&kind); !s.ok()) return s;
  uint32_t count;
  if (kind == static_cast<uint8_t>(WalRecord::Kind::kEnroll)) {
    r.kind = WalRecord::Kind::kEnroll;
    if (auto s = in.U64(&r.first_id); !s.ok()) return s;
    if (auto s = in.U32(&count); !s.ok()) return s;
    if (auto s = in.Str(&r.request_id); !s.ok()) return s;
    // Every row takes at least 8 bytes of strings: bound before reserving.
    if (count > in.remaining() / 8) {
      return absl::DataLossError(absl::StrCat(what, ": bad row count ", count));
    }
    r.subject_ids.resize(count);
    r.groups.resize(count);
    for (uint32_t i = 0; i < count; ++i) {
      if (auto s = in.Str(&r.subject_ids[i]); !s.ok()) return s;
      if (auto s = in.Str(&r.groups[i]); !s.ok()) return s;
    }
    const size_t floats = size_t{count} * static_cast<size_t>(dimension);
    if (floats > in.remaining() / sizeof(float)) {
      return absl::DataLossError(absl::StrCat(what, ": short vector data"));
    }
    r.vectors.resize(floats);
    if (auto s = in.Floats(floats, r.vectors.data()); !s.ok()) return s;
  } else if (kind == static_cast<uint8_t>(WalRecord::Kind::kRemove)) {
    r.kind = WalRecord::Kind::kRemove;
    if (auto s = in.U32(&count); !s.ok()) return s;
    if (count > in.remaining() / 8) {
      return absl::DataLossError(absl::StrCat(what, ": bad id count ", count));
    }
    r.removed_ids.resize(count);
    for (uint32_t i = 0; i < count; ++i) {
      if (auto s = in.U64(&r.removed_ids[i]); !s.ok()) return s;
    }
  } else {
    return absl::DataLossError(
        absl::StrCat(what, ": unknown record kind ", int{kind}));
  }
  if (in.remaining() != 0) {
    return absl::DataLossError(
        absl::StrCat(what, ": ", in.remaining(), " trailing payload bytes"));
  }
  return r;
}

// Whether the record at `pos` is whole (its header checks out and it ends
// exactly at the end of the file) yet fails its payload checksum, and not
// because its last sectors are zeros. Such a record was written, perhaps
// acknowledged, and damaged since: corruption, not a torn write to drop.
// (Zero sectors at its end are a write that never landed: torn.)
bool WrittenWholeYetDamaged(absl::string_view bytes, size_t pos) {
  constexpr size_t kSectorBytes = 512;
  const size_t left = bytes.size() - pos;
  if (left < kRecordHeaderBytes) return false;
  const char* h = bytes.data() + pos;
  if (storage::DecodeU32(h + 8) != storage::Crc32(absl::string_view(h, 8)) ||
      storage::DecodeU32(h) != left - kRecordHeaderBytes) {
    return false;
  }
  size_t last_nonzero = bytes.size();
  while (last_nonzero > pos && bytes[last_nonzero - 1] == 0) --last_nonzero;
  const size_t first_zero_sector =
      (last_nonzero + kSectorBytes - 1) / kSectorBytes * kSectorBytes;
  return !(first_zero_sector > pos && first_zero_sector < bytes.size());
}

}  // namespace

std::string EncodeWalHeader(int dimension) {
  std::string out(kWalMagic, 8);
  storage::ByteWriter w(&out);
  w.U32(kWalFormatVersion);
  w.U32(static_cast<uint32_t>(dimension));
  return out;
}

std::string EncodeEnrollRecord(EntryId first_id, absl::string_view request_id,
                               const std::vector<std::string>& subject_ids,
                               const std::vector<std::string>& groups,
                               absl::Span<const float> vectors) {
  std::string payload;
  size_t string_bytes = request_id.size();
  for (const auto& s : subject_ids) string_bytes += s.size() + 8;
  for (const auto& g : groups) string_bytes += g.size();
  payload.reserve(32 + string_bytes + vectors.size() * sizeof(float));
  storage::ByteWriter w(&payload);
  w.U8(static_cast<uint8_t>(WalRecord::Kind::kEnroll));
  w.U64(first_id);
  w.U32(static_cast<uint32_t>(subject_ids.size()));
  w.Str(request_id);
  for (size_t i = 0; i < subject_ids.size(); ++i) {
    w.Str(subject_ids[i]);
    w.Str(groups.empty() ? absl::string_view() : absl::string_view(groups[i]));
  }
  w.Floats(vectors);
  return storage::FrameRecord(payload);
}

std::string EncodeRemoveRecord(absl::Span<const EntryId> ids) {
  std::string payload;
  storage::ByteWriter w(&payload);
  w.U8(static_cast<uint8_t>(WalRecord::Kind::kRemove));
  w.U32(static_cast<uint32_t>(ids.size()));
  for (EntryId id : ids) w.U64(id);
  return storage::FrameRecord(payload);
}

absl::StatusOr<SegmentReadResult> ReadWalSegment(
    storage::Env* env, const std::string& path, int dimension,
    bool last_segment,
    const std::function<absl::Status(const WalRecord&, uint64_t offset)>&
        on_record) {
  auto data = env->ReadFile(path);
  if (!data.ok()) return data.status();
  const absl::string_view bytes(*data);
  if (bytes.size() < kWalHeaderBytes ||
      std::memcmp(bytes.data(), kWalMagic, 8) != 0) {
    return absl::DataLossError(
        absl::StrCat(path, ": not a write-ahead log segment (bad header)"));
  }
  const uint32_t version = storage::DecodeU32(bytes.data() + 8);
  const uint32_t dim = storage::DecodeU32(bytes.data() + 12);
  if (version != kWalFormatVersion) {
    return absl::DataLossError(
        absl::StrCat(path, ": unsupported log format version ", version));
  }
  if (dim != static_cast<uint32_t>(dimension)) {
    return absl::DataLossError(absl::StrCat(path, ": dimension ", dim,
                                            ", gallery has ", dimension));
  }

  SegmentReadResult result;
  size_t pos = kWalHeaderBytes;
  while (pos < bytes.size()) {
    const size_t left = bytes.size() - pos;
    const std::string where = absl::StrCat(path, " at offset ", pos);
    const storage::FramedRecord framed =
        storage::ReadFramedRecord(bytes.substr(pos));
    if (!framed.ok()) {
      if (framed.torn && last_segment &&
          !WrittenWholeYetDamaged(bytes, pos)) {
        result.torn_bytes = left;
        break;
      }
      return absl::DataLossError(absl::StrCat(where, ": ", framed.error));
    }
    auto record = DecodePayload(framed.payload, dimension, where);
    if (!record.ok()) return record.status();
    if (auto s = on_record(*record, pos); !s.ok()) return s;
    ++result.records;
    pos += framed.bytes;
  }
  result.valid_bytes = pos;
  return result;
}

}  // namespace candor::gallery
