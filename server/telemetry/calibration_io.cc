#include "server/telemetry/calibration_io.h"

#include <zlib.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/telemetry/file_io.h"

namespace candor::telemetry {
namespace {

constexpr char kMagic[8] = {'C', 'A', 'N', 'D', 'C', 'A', 'L', '1'};
// Magic, format version, payload length.
constexpr size_t kHeaderBytes = 8 + 4 + 8;
constexpr size_t kChecksumBytes = 4;

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutString(std::string* out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}
void PutFloats(std::string* out, const std::vector<float>& v) {
  PutU64(out, v.size());
  for (float f : v) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof(bits));
    PutU32(out, bits);
  }
}

uint32_t Crc32(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()),
            static_cast<uInt>(bytes.size())));
}

// Bounds-checked little-endian reads over a byte range.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}

  bool U64(uint64_t* v) {
    if (rest_.size() < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) {
      *v |= static_cast<uint64_t>(static_cast<unsigned char>(rest_[i])) << (8 * i);
    }
    rest_.remove_prefix(8);
    return true;
  }
  bool U32(uint32_t* v) {
    if (rest_.size() < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      *v |= static_cast<uint32_t>(static_cast<unsigned char>(rest_[i])) << (8 * i);
    }
    rest_.remove_prefix(4);
    return true;
  }
  bool String(std::string* s) {
    uint32_t n;
    if (!U32(&n) || rest_.size() < n) return false;
    s->assign(rest_.data(), n);
    rest_.remove_prefix(n);
    return true;
  }
  bool Floats(std::vector<float>* v) {
    uint64_t n;
    if (!U64(&n) || rest_.size() / 4 < n) return false;
    v->resize(n);
    for (float& f : *v) {
      uint32_t bits = 0;
      U32(&bits);
      std::memcpy(&f, &bits, sizeof(f));
    }
    return true;
  }
  bool empty() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

absl::Status Truncated(const std::string& what) {
  return absl::DataLossError(
      absl::StrCat("calibration file is truncated or malformed at ", what));
}

}  // namespace

std::string SerializeCalibration(const Calibration& calibration) {
  const CalibrationMeta& meta = calibration.meta();
  std::string payload;
  PutU64(&payload, static_cast<uint64_t>(meta.created_at_us));
  PutU64(&payload, meta.gallery_size);
  PutU64(&payload, meta.gallery_version);
  PutU32(&payload, static_cast<uint32_t>(meta.top_k));
  PutString(&payload, meta.source);
  PutU32(&payload, static_cast<uint32_t>(calibration.groups().size()));
  for (const GroupScores& g : calibration.groups()) {
    PutString(&payload, g.group);
    PutFloats(&payload, g.nonmated_top1);
    PutFloats(&payload, g.mated);
  }
  std::string out(kMagic, sizeof(kMagic));
  PutU32(&out, kCalibrationFormatVersion);
  PutU64(&out, payload.size());
  out += payload;
  PutU32(&out, Crc32(payload));
  return out;
}

absl::StatusOr<Calibration> ParseCalibration(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes + kChecksumBytes ||
      std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError("not a candor calibration file (bad magic)");
  }
  Reader header(bytes.substr(sizeof(kMagic), kHeaderBytes - sizeof(kMagic)));
  uint32_t version = 0;
  uint64_t payload_bytes = 0;
  header.U32(&version);
  header.U64(&payload_bytes);
  if (version != kCalibrationFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("calibration format version ", version,
                     " is not readable by this build (reads ",
                     kCalibrationFormatVersion, ")"));
  }
  if (payload_bytes != bytes.size() - kHeaderBytes - kChecksumBytes) {
    return absl::DataLossError(absl::StrCat(
        "calibration file holds ", bytes.size(), " bytes, its header says ",
        payload_bytes + kHeaderBytes + kChecksumBytes));
  }
  const std::string_view payload = bytes.substr(kHeaderBytes, payload_bytes);
  uint32_t stored_crc = 0;
  Reader(bytes.substr(kHeaderBytes + payload_bytes)).U32(&stored_crc);
  if (stored_crc != Crc32(payload)) {
    return absl::DataLossError("calibration file checksum mismatch");
  }
  Reader r(payload);
  CalibrationMeta meta;
  uint64_t created_at_us;
  uint32_t top_k;
  uint32_t group_count;
  if (!r.U64(&created_at_us) || !r.U64(&meta.gallery_size) ||
      !r.U64(&meta.gallery_version) || !r.U32(&top_k) ||
      !r.String(&meta.source) || !r.U32(&group_count)) {
    return Truncated("the metadata");
  }
  meta.created_at_us = static_cast<int64_t>(created_at_us);
  meta.top_k = static_cast<int>(top_k);
  std::vector<GroupScores> groups;
  for (uint32_t i = 0; i < group_count; ++i) {
    GroupScores g;
    if (!r.String(&g.group) || !r.Floats(&g.nonmated_top1) ||
        !r.Floats(&g.mated)) {
      return Truncated(absl::StrCat("group ", i));
    }
    groups.push_back(std::move(g));
  }
  if (!r.empty()) return Truncated("the end (trailing bytes)");
  return Calibration::FromGroups(std::move(meta), std::move(groups));
}

absl::Status SaveCalibration(const Calibration& calibration,
                             const std::string& path) {
  return WriteFileAtomically(path, SerializeCalibration(calibration));
}

absl::StatusOr<Calibration> LoadCalibration(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFileToString(path);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<Calibration> calibration = ParseCalibration(*bytes);
  if (!calibration.ok()) {
    return absl::Status(calibration.status().code(),
                        absl::StrCat(path, ": ", calibration.status().message()));
  }
  return calibration;
}

}  // namespace candor::telemetry
