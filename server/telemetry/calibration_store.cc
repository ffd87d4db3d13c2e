#include "server/telemetry/calibration_store.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/common/log.h"
#include "server/storage/files.h"
#include "server/telemetry/calibration_io.h"

namespace candor::telemetry {
namespace {

constexpr char kSuffix[] = ".cal";

}  // namespace

absl::StatusOr<std::unique_ptr<CalibrationStore>> CalibrationStore::Open(
    const std::string& dir, storage::Env* env) {
  absl::StatusOr<std::vector<storage::KeyedFile>> files =
      storage::OpenKeyedFiles(env, dir, kSuffix);
  if (!files.ok()) return files.status();
  // Calibrations describe who is enrolled (groups, scores): owner only.
  std::error_code ec;
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot restrict ", dir, ": ", ec.message()));
  }
  std::unique_ptr<CalibrationStore> store(new CalibrationStore(dir, env));
  for (const storage::KeyedFile& file : *files) {
    auto calibration = LoadCalibration(env, file.path);
    if (!calibration.ok()) {
      store->SealAside(file.path, file.key, calibration.status());
      continue;
    }
    store->Keep(file.key,
                std::make_shared<const Calibration>(*std::move(calibration)));
  }
  return store;
}

void CalibrationStore::SealAside(const std::string& path,
                                 const std::string& gallery,
                                 const absl::Status& why) {
  const absl::Time now = absl::Now();
  QuarantineRecord record;
  record.kind = "calibration";
  record.name = gallery;
  record.path = path;
  record.reason = why.ToString();
  record.at_us = absl::ToUnixMicros(now);
  const std::string sealed = absl::StrCat(
      path, ".damaged-",
      absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone()));
  absl::Status moved =
      env_->FileExists(sealed)
          ? absl::AlreadyExistsError(absl::StrCat(sealed, " exists"))
          : env_->RenameFile(path, sealed);
  if (moved.ok()) moved = env_->SyncDir(dir_);
  if (moved.ok()) record.path = sealed;
  LogWarning(absl::StrCat(
      "calibration of ", gallery, " dropped: ", record.reason,
      moved.ok() ? absl::StrCat("; sealed aside as ", sealed)
                 : absl::StrCat("; ", path, " left in place (",
                                moved.message(), ")"),
      "; the gallery answers as uncalibrated until Calibrate runs"));
  absl::MutexLock lock(&mu_);
  damaged_.push_back(std::move(record));
}

std::vector<QuarantineRecord> CalibrationStore::Damaged() const {
  absl::MutexLock lock(&mu_);
  return damaged_;
}

std::string CalibrationStore::PathOf(const std::string& gallery) const {
  return storage::JoinPath(dir_, absl::StrCat(gallery, kSuffix));
}

CalibrationStore::Ptr CalibrationStore::Find(const std::string& gallery) const {
  absl::MutexLock lock(&mu_);
  auto it = calibrations_.find(gallery);
  return it == calibrations_.end() ? nullptr : it->second;
}

absl::Status CalibrationStore::Save(const std::string& gallery,
                                    Ptr calibration) {
  absl::MutexLock saving(&save_mu_);
  if (!dir_.empty()) {
    absl::Status saved =
        SaveCalibration(env_, *calibration, PathOf(gallery));
    if (!saved.ok()) return saved;
  }
  Keep(gallery, std::move(calibration));
  return absl::OkStatus();
}

void CalibrationStore::Keep(const std::string& gallery, Ptr calibration) {
  absl::MutexLock lock(&mu_);
  calibrations_[gallery] = std::move(calibration);
}

void CalibrationStore::Forget(const std::string& gallery) {
  {
    absl::MutexLock lock(&mu_);
    calibrations_.erase(gallery);
  }
  if (!dir_.empty()) storage::RemoveKeyedFile(env_, dir_, PathOf(gallery));
}

}  // namespace candor::telemetry
