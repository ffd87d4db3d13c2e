// All galleries of a server, under --data-dir: one directory per gallery
// (data-dir/galleries/<name>/). Creates, opens, deletes and compacts them,
// and runs automatic compaction in the background.
#ifndef CANDOR_SERVER_GALLERY_GALLERY_STORE_H_
#define CANDOR_SERVER_GALLERY_GALLERY_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/common/quarantine.h"
#include "server/gallery/gallery.h"
#include "server/gallery/recovery.h"

namespace candor::gallery {

// Something start-up could not use, moved aside whole (never erased) so
// that the server serves everything else: a gallery that could not be
// opened, or a folder under galleries/ that is not a gallery. Also used by
// the server for a damaged audit log or calibration file.
using QuarantineRecord = ::candor::QuarantineRecord;

// "quarantine": the folder of data_dir that damaged galleries are moved to,
// as quarantine/<name>-<UTC time>/ (e.g. faces-20260102T030405Z).
inline constexpr char kQuarantineDir[] = "quarantine";

struct StoreOptions {
  std::string data_dir = "./candor-data";
  GalleryOptions gallery;
  // How often the background thread looks for due compactions.
  absl::Duration compaction_poll = absl::Seconds(5);
};

class GalleryStore {
 public:
  // Opens (creating if needed) data_dir and every gallery in it. A gallery
  // that cannot be opened (damaged beyond a torn final log record, or a
  // folder without a manifest) is logged and quarantined: moved to
  // data_dir/quarantine/ and listed by Quarantined(); the others open.
  // Fails only when data_dir itself cannot be used.
  static absl::StatusOr<std::unique_ptr<GalleryStore>> Open(
      const StoreOptions& options);
  ~GalleryStore();

  // InvalidArgument for a bad name or dimension; AlreadyExists if taken.
  absl::StatusOr<std::shared_ptr<Gallery>> Create(const GalleryConfig& config);
  // NotFound if unknown. Shared: an in-flight search keeps a deleted
  // gallery alive until it finishes.
  absl::StatusOr<std::shared_ptr<Gallery>> Get(const std::string& name) const;
  std::vector<std::shared_ptr<Gallery>> List() const;
  // Removes from the map and deletes the files. NotFound if unknown.
  absl::Status Delete(const std::string& name);

  // What Open quarantined, in the order found.
  std::vector<QuarantineRecord> Quarantined() const;
  // What recovery dropped from the gallery when Open opened it (zeros when
  // nothing, or when the gallery was created since).
  RecoveryDropped Dropped(const std::string& name) const;

  // Stops the background compaction thread (also done by the destructor).
  void Shutdown();

 private:
  class Impl;
  explicit GalleryStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// [a-zA-Z0-9_.-]{1,64}, not starting with '.'.
absl::Status ValidateGalleryName(const std::string& name);

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_GALLERY_STORE_H_
