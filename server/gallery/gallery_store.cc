#include "server/gallery/gallery_store.h"

#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/gallery/layout.h"
#include "server/gallery/log.h"
#include "server/storage/env.h"
#include "server/storage/files.h"

namespace candor::gallery {
namespace {

constexpr size_t kMaxGalleryNameBytes = 64;
constexpr int kMaxDimension = 4096;
constexpr char kGalleriesDir[] = "galleries";

}  // namespace

absl::Status ValidateGalleryName(const std::string& name) {
  if (name.empty() || name.size() > kMaxGalleryNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "gallery name must be 1..", kMaxGalleryNameBytes, " bytes, got ",
        name.size()));
  }
  if (name[0] == '.') {
    return absl::InvalidArgumentError(
        absl::StrCat("gallery name '", name, "' starts with '.'"));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gallery name '", name, "' has a character outside [a-zA-Z0-9_.-]"));
    }
  }
  return absl::OkStatus();
}

class GalleryStore::Impl {
 public:
  explicit Impl(StoreOptions options)
      : options_(std::move(options)),
        root_(storage::JoinPath(options_.data_dir, kGalleriesDir)) {}
  ~Impl() { Shutdown(); }

  absl::Status Load() {
    storage::Env* env = options_.gallery.env;
    if (auto s = storage::MakeDirs(env, root_); !s.ok()) return s;
    auto names = env->ListDir(root_);
    if (!names.ok()) return names.status();
    absl::MutexLock lock(&mu_);
    for (const std::string& name : *names) {
      const std::string dir = storage::JoinPath(root_, name);
      if (!env->IsDirectory(dir)) continue;
      if (auto s = ValidateGalleryName(name); !s.ok()) {
        Quarantine(name, dir, absl::StrCat("not a gallery: ", s.message()));
        continue;
      }
      if (!env->FileExists(storage::JoinPath(dir, kManifestFileName))) {
        // A crash during Create leaves a folder without a manifest, but so
        // does a lost or deleted manifest beside a whole log: kept aside,
        // never erased.
        Quarantine(name, dir,
                   "no MANIFEST (an interrupted create, or the manifest was "
                   "lost)");
        continue;
      }
      RecoveryDropped dropped;
      auto gallery = Gallery::Open(dir, options_.gallery, &dropped);
      if (!gallery.ok()) {
        Quarantine(name, dir, gallery.status().ToString());
        continue;
      }
      if (dropped.bytes > 0) dropped_[name] = dropped;
      galleries_[name] = std::shared_ptr<Gallery>(std::move(*gallery));
    }
    return absl::OkStatus();
  }

  std::vector<QuarantineRecord> Quarantined() const {
    absl::MutexLock lock(&mu_);
    return quarantined_;
  }

  RecoveryDropped Dropped(const std::string& name) const {
    absl::MutexLock lock(&mu_);
    auto it = dropped_.find(name);
    return it == dropped_.end() ? RecoveryDropped() : it->second;
  }

  void StartCompactor() {
    compactor_ = std::thread([this] { CompactorLoop(); });
  }

  absl::StatusOr<std::shared_ptr<Gallery>> Create(const GalleryConfig& config) {
    if (auto s = ValidateGalleryName(config.name); !s.ok()) return s;
    const int dim = config.index.dimension;
    if (dim < 1 || dim > kMaxDimension) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dimension ", dim, " is outside 1..", kMaxDimension));
    }
    if (config.index.precision == index::Precision::kBf16) {
      if (config.index.type != index::IndexType::kFlat) {
        return absl::InvalidArgumentError(
            "precision bf16 needs a flat index (index.type FLAT): IVF "
            "galleries are fp32");
      }
      if (options_.gallery.backend == index::Backend::kGpu ||
          options_.gallery.backend == index::Backend::kFaissGpu) {
        return absl::FailedPreconditionError(absl::StrCat(
            "precision bf16 is served by the CPU flat index only; this "
            "server runs --backend=",
            index::BackendName(options_.gallery.backend),
            " (create the gallery as fp32, or on a server with "
            "--backend=cpu)"));
      }
    }
    absl::MutexLock lock(&mu_);
    if (galleries_.count(config.name) > 0) {
      return absl::AlreadyExistsError(
          absl::StrCat("gallery ", config.name, " already exists"));
    }
    auto gallery = Gallery::Create(storage::JoinPath(root_, config.name),
                                   config, options_.gallery);
    if (!gallery.ok()) return gallery.status();
    std::shared_ptr<Gallery> shared(std::move(*gallery));
    galleries_[config.name] = shared;
    return shared;
  }

  absl::StatusOr<std::shared_ptr<Gallery>> Get(const std::string& name) const {
    absl::MutexLock lock(&mu_);
    auto it = galleries_.find(name);
    if (it == galleries_.end()) {
      return absl::NotFoundError(absl::StrCat("gallery ", name, " not found"));
    }
    return it->second;
  }

  std::vector<std::shared_ptr<Gallery>> List() const {
    absl::MutexLock lock(&mu_);
    std::vector<std::shared_ptr<Gallery>> out;
    out.reserve(galleries_.size());
    for (const auto& [name, gallery] : galleries_) out.push_back(gallery);
    return out;
  }

  absl::Status Delete(const std::string& name) {
    // Held while the files go, so a Create of the same name waits.
    absl::MutexLock lock(&mu_);
    auto it = galleries_.find(name);
    if (it == galleries_.end()) {
      return absl::NotFoundError(absl::StrCat("gallery ", name, " not found"));
    }
    std::shared_ptr<Gallery> gallery = std::move(it->second);
    galleries_.erase(it);
    dropped_.erase(name);
    return gallery->DestroyFiles();
  }

  void Shutdown() {
    {
      absl::MutexLock lock(&stop_mu_);
      stop_ = true;
      stop_cv_.SignalAll();
    }
    if (compactor_.joinable()) compactor_.join();
  }

 private:
  void CompactorLoop() {
    absl::MutexLock lock(&stop_mu_);
    while (!stop_) {
      stop_cv_.WaitWithTimeout(&stop_mu_, options_.compaction_poll);
      if (stop_) break;
      stop_mu_.Unlock();
      const absl::Time now = absl::Now();
      for (const auto& gallery : List()) {
        if (auto s = gallery->MaybeCompact(now); !s.ok()) {
          LogWarning(absl::StrCat("automatic compaction of ", gallery->name(),
                                  " failed: ", s.ToString()));
        }
      }
      stop_mu_.Lock();
    }
  }

  // Moves `dir` (found under galleries/ as `name`) to
  // data_dir/quarantine/<name>-<UTC time>[-n]/ and records it. Nothing is
  // erased: when the move fails, the folder stays where it is (and is not
  // served).
  void Quarantine(const std::string& name, const std::string& dir,
                  const std::string& reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const absl::Time now = absl::Now();
    QuarantineRecord record;
    record.kind = "gallery";
    record.name = name;
    record.path = dir;
    record.reason = reason;
    record.at_us = absl::ToUnixMicros(now);
    storage::Env* env = options_.gallery.env;
    const std::string quarantine =
        storage::JoinPath(options_.data_dir, kQuarantineDir);
    absl::Status moved = storage::MakeDirs(env, quarantine);
    if (moved.ok()) {
      const std::string stamp = absl::StrCat(
          name, "-", absl::FormatTime("%Y%m%dT%H%M%SZ", now,
                                      absl::UTCTimeZone()));
      std::string target = storage::JoinPath(quarantine, stamp);
      for (int n = 2; env->FileExists(target) || env->IsDirectory(target);
           ++n) {
        target = storage::JoinPath(quarantine, absl::StrCat(stamp, "-", n));
      }
      moved = env->RenameFile(dir, target);
      if (moved.ok()) {
        record.path = target;
        moved = env->SyncDir(quarantine);
        if (moved.ok()) moved = env->SyncDir(root_);
      }
    }
    LogWarning(absl::StrCat(
        "gallery ", name, " quarantined, not served: ", reason,
        moved.ok() ? absl::StrCat("; moved to ", record.path)
                   : absl::StrCat("; left in place (", moved.message(), ")"),
        "; nothing was erased"));
    quarantined_.push_back(std::move(record));
  }

  const StoreOptions options_;
  const std::string root_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Gallery>> galleries_
      ABSL_GUARDED_BY(mu_);
  std::vector<QuarantineRecord> quarantined_ ABSL_GUARDED_BY(mu_);
  // Galleries whose recovery dropped a torn record, by name.
  std::map<std::string, RecoveryDropped> dropped_ ABSL_GUARDED_BY(mu_);

  absl::Mutex stop_mu_;
  absl::CondVar stop_cv_;
  bool stop_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread compactor_;
};

absl::StatusOr<std::unique_ptr<GalleryStore>> GalleryStore::Open(
    const StoreOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  if (auto s = impl->Load(); !s.ok()) return s;
  impl->StartCompactor();
  return std::unique_ptr<GalleryStore>(new GalleryStore(std::move(impl)));
}

GalleryStore::GalleryStore(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
GalleryStore::~GalleryStore() = default;

absl::StatusOr<std::shared_ptr<Gallery>> GalleryStore::Create(
    const GalleryConfig& config) {
  return impl_->Create(config);
}
absl::StatusOr<std::shared_ptr<Gallery>> GalleryStore::Get(
    const std::string& name) const {
  return impl_->Get(name);
}
std::vector<std::shared_ptr<Gallery>> GalleryStore::List() const {
  return impl_->List();
}
absl::Status GalleryStore::Delete(const std::string& name) {
  return impl_->Delete(name);
}
std::vector<QuarantineRecord> GalleryStore::Quarantined() const {
  return impl_->Quarantined();
}
RecoveryDropped GalleryStore::Dropped(const std::string& name) const {
  return impl_->Dropped(name);
}
void GalleryStore::Shutdown() { impl_->Shutdown(); }

}  // namespace candor::gallery
