#include "server/api/calibration_store.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/telemetry/calibration_io.h"

namespace candor::api {
namespace {

constexpr char kSuffix[] = ".cal";

}  // namespace

absl::StatusOr<std::unique_ptr<CalibrationStore>> CalibrationStore::Open(
    const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  // Calibrations describe who is enrolled (groups, scores): owner only.
  if (!ec) {
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", dir, ": ", ec.message()));
  }
  std::unique_ptr<CalibrationStore> store(new CalibrationStore(dir));
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot read ", dir, ": ", ec.message()));
  }
  for (const auto& entry : it) {
    if (entry.path().extension() != kSuffix) continue;
    auto calibration = telemetry::LoadCalibration(entry.path().string());
    if (!calibration.ok()) {
      LogWarning(absl::StrCat("ignoring calibration ", entry.path().string(),
                              ": ", calibration.status().ToString()));
      continue;
    }
    store->Keep(entry.path().stem().string(),
                std::make_shared<const telemetry::Calibration>(
                    *std::move(calibration)));
  }
  return store;
}

std::string CalibrationStore::PathOf(const std::string& gallery) const {
  return absl::StrCat(dir_, "/", gallery, kSuffix);
}

CalibrationStore::Ptr CalibrationStore::Find(const std::string& gallery) const {
  absl::MutexLock lock(&mu_);
  auto it = calibrations_.find(gallery);
  return it == calibrations_.end() ? nullptr : it->second;
}

absl::Status CalibrationStore::Save(const std::string& gallery,
                                    Ptr calibration) {
  if (!dir_.empty()) {
    absl::Status saved =
        telemetry::SaveCalibration(*calibration, PathOf(gallery));
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
  if (dir_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove(PathOf(gallery), ignored);
}

}  // namespace candor::api
