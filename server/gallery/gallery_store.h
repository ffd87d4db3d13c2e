// All galleries of a server, under --data-dir: one directory per gallery
// (data-dir/galleries/<name>/). Creates, opens, deletes and compacts them,
// and runs automatic compaction in the background.
#ifndef CANDOR_SERVER_GALLERY_GALLERY_STORE_H_
#define CANDOR_SERVER_GALLERY_GALLERY_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/gallery/gallery.h"

namespace candor::gallery {

struct StoreOptions {
  std::string data_dir = "./candor-data";
  GalleryOptions gallery;
  // How often the background thread looks for due compactions.
  absl::Duration compaction_poll = absl::Seconds(5);
};

class GalleryStore {
 public:
  // Opens (creating if needed) data_dir and every gallery in it.
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
