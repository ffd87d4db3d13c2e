// The MANIFEST file: what a gallery is (GalleryConfig) and whether its
// index has been trained. Rewritten atomically (tmp + fsync + rename +
// fsync dir). Format, little-endian:
//
//   magic "CNDRMAN1", u32 format version (1),
//   str name, i32 dimension, u8 index type, i32 nlist, i32 default_nprobe,
//   u8 storage, str policy_blob, i64 created_at_us, u8 index_trained,
//   u32 crc32 (zlib) of every byte before it
//
// (str: u32 byte length, bytes; enums as their index::IndexType /
// index::Storage values.)
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
