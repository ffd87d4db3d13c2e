#include "server/gallery/manifest.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/gallery/layout.h"
#include "server/storage/byte_io.h"
#include "server/storage/files.h"

namespace candor::gallery {

std::string EncodeManifest(const Manifest& manifest) {
  const GalleryConfig& c = manifest.config;
  std::string out(kManifestMagic, 8);
  storage::ByteWriter w(&out);
  const bool fp32 = c.index.precision == index::Precision::kFp32;
  w.U32(fp32 ? kManifestFormatVersion : kManifestFormatVersionPrecision);
  w.Str(c.name);
  w.I32(c.index.dimension);
  w.U8(static_cast<uint8_t>(c.index.type));
  w.I32(c.index.nlist);
  w.I32(c.index.default_nprobe);
  w.U8(static_cast<uint8_t>(c.index.storage));
  w.Str(c.policy_blob);
  w.I64(c.created_at_us);
  w.U8(manifest.index_trained ? 1 : 0);
  if (!fp32) w.U8(static_cast<uint8_t>(c.index.precision));
  w.U32(storage::Crc32(out));
  return out;
}

absl::StatusOr<Manifest> DecodeManifest(absl::string_view bytes,
                                        const std::string& what) {
  if (bytes.size() < 12 || std::memcmp(bytes.data(), kManifestMagic, 8) != 0) {
    return absl::DataLossError(absl::StrCat(what, ": not a manifest"));
  }
  const size_t body = bytes.size() - 4;
  if (storage::DecodeU32(bytes.data() + body) !=
      storage::Crc32(bytes.substr(0, body))) {
    return absl::DataLossError(absl::StrCat(what, ": checksum mismatch"));
  }
  storage::ByteReader in(bytes.substr(8, body - 8), what);
  Manifest m;
  GalleryConfig& c = m.config;
  uint32_t format;
  uint8_t type, storage, trained;
  for (auto s : {in.U32(&format), in.Str(&c.name), in.I32(&c.index.dimension),
                 in.U8(&type), in.I32(&c.index.nlist),
                 in.I32(&c.index.default_nprobe), in.U8(&storage),
                 in.Str(&c.policy_blob), in.I64(&c.created_at_us),
                 in.U8(&trained)}) {
    if (!s.ok()) return s;
  }
  if (format != kManifestFormatVersion &&
      format != kManifestFormatVersionPrecision) {
    return absl::DataLossError(
        absl::StrCat(what, ": unsupported manifest format ", format));
  }
  uint8_t precision = static_cast<uint8_t>(index::Precision::kFp32);
  if (format == kManifestFormatVersionPrecision) {
    if (auto s = in.U8(&precision); !s.ok()) return s;
    if (precision > static_cast<uint8_t>(index::Precision::kBf16)) {
      return absl::DataLossError(absl::StrCat(what, ": bad precision"));
    }
  }
  c.index.precision = static_cast<index::Precision>(precision);
  if (type > static_cast<uint8_t>(index::IndexType::kIvfFlat) ||
      storage > static_cast<uint8_t>(index::Storage::kFp16)) {
    return absl::DataLossError(absl::StrCat(what, ": bad index settings"));
  }
  c.index.type = static_cast<index::IndexType>(type);
  c.index.storage = static_cast<index::Storage>(storage);
  m.index_trained = trained != 0;
  return m;
}

absl::Status WriteManifest(storage::Env* env, const std::string& dir,
                           const Manifest& manifest) {
  return storage::WriteFileAtomically(
      env, storage::JoinPath(dir, kManifestFileName), EncodeManifest(manifest));
}

absl::StatusOr<Manifest> ReadManifest(storage::Env* env,
                                      const std::string& dir) {
  const std::string path = storage::JoinPath(dir, kManifestFileName);
  auto bytes = env->ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  return DecodeManifest(*bytes, path);
}

}  // namespace candor::gallery
