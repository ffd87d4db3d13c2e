// The MANIFEST file: what a gallery is (GalleryConfig) and whether its
// index has been trained. Rewritten atomically (tmp + fsync + rename +
// fsync dir). Format, little-endian:
//
//   magic "CNDRMAN1", u32 format version (1 or 2),
//   str name, i32 dimension, u8 index type, i32 nlist, i32 default_nprobe,
//   u8 storage, str policy_blob, i64 created_at_us, u8 index_trained,
//   [version 2 only: u8 precision]
//   u32 crc32 (zlib) of every byte before it
//
// (str: u32 byte length, bytes; enums as their index::IndexType /
// index::Storage / index::Precision values.) Version 1 is fp32; an fp32
// gallery's manifest is still written as version 1, byte for byte as
// before, so only a bf16 gallery needs a server that knows version 2.
#ifndef CANDOR_SERVER_GALLERY_MANIFEST_H_
#define CANDOR_SERVER_GALLERY_MANIFEST_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/gallery/gallery.h"
#include "server/storage/env.h"

namespace candor::gallery {

inline constexpr char kManifestMagic[] = "CNDRMAN1";
inline constexpr uint32_t kManifestFormatVersion = 1;
// Adds the precision (written only when it is not fp32).
inline constexpr uint32_t kManifestFormatVersionPrecision = 2;

struct Manifest {
  GalleryConfig config;
  // TrainIndex has run: reopening retrains an approximate index.
  bool index_trained = false;
};

std::string EncodeManifest(const Manifest& manifest);
absl::StatusOr<Manifest> DecodeManifest(absl::string_view bytes,
                                        const std::string& what);

absl::Status WriteManifest(storage::Env* env, const std::string& dir,
                           const Manifest& manifest);
// NotFound if the directory has no manifest; DataLoss if it is damaged.
absl::StatusOr<Manifest> ReadManifest(storage::Env* env,
                                      const std::string& dir);

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_MANIFEST_H_
