// Files of one gallery directory (data-dir/galleries/<name>/):
//
//   MANIFEST                 the GalleryConfig (manifest.h); written last at
//                            creation, so a directory without one is a
//                            half-created gallery.
//   wal-<seq>.log            write-ahead log segments (wal_format.h); seq is
//                            20 decimal digits, segments are consecutive.
//   snapshot-<seq>.snap      all live entries as of the start of segment
//                            <seq> (snapshot.h): it covers every segment with
//                            a smaller seq.
//   *.tmp                    an atomic write in progress; erased on open.
//
// Recovery loads the newest snapshot, replays segments from its seq on, and
// erases older snapshots and covered segments (an interrupted compaction).
#ifndef CANDOR_SERVER_GALLERY_LAYOUT_H_
#define CANDOR_SERVER_GALLERY_LAYOUT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace candor::gallery {

inline constexpr char kManifestFileName[] = "MANIFEST";
inline constexpr char kTmpSuffix[] = ".tmp";

std::string SegmentFileName(uint64_t seq);
std::string SnapshotFileName(uint64_t seq);
// The seq of a "wal-<seq>.log" / "snapshot-<seq>.snap" name, else nullopt.
std::optional<uint64_t> ParseSegmentFileName(absl::string_view name);
std::optional<uint64_t> ParseSnapshotFileName(absl::string_view name);

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_LAYOUT_H_
