// Calibrations by gallery name, for a server and a router alike: held in
// memory and, when the store has a directory, as <dir>/<gallery>.cal
// (calibration_io.h), written through the storage layer's Env.
// Thread-safe; saves are serialized here.
#ifndef CANDOR_SERVER_TELEMETRY_CALIBRATION_STORE_H_
#define CANDOR_SERVER_TELEMETRY_CALIBRATION_STORE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/common/quarantine.h"
#include "server/storage/env.h"
#include "server/telemetry/calibration.h"

namespace candor::telemetry {

class CalibrationStore {
 public:
  using Ptr = std::shared_ptr<const Calibration>;

  // Memory only.
  CalibrationStore() = default;
  // Creates `dir` if needed and loads every <gallery>.cal in it. A file that
  // cannot be read is sealed aside (renamed <gallery>.cal.damaged-<UTC
  // time>, never erased), logged and listed by Damaged(): a damaged
  // calibration must not keep the server down, and that gallery answers as
  // uncalibrated until Calibrate runs again. Unavailable when `dir` cannot
  // be created. Files are read and written through `env` (not owned;
  // outlives the store).
  static absl::StatusOr<std::unique_ptr<CalibrationStore>> Open(
      const std::string& dir, storage::Env* env = storage::Env::Default());

  // The files Open sealed aside.
  std::vector<QuarantineRecord> Damaged() const;

  // nullptr when the gallery has none.
  Ptr Find(const std::string& gallery) const;
  // Writes the file first (with a directory) and keeps the calibration only
  // when that worked. Saves run one at a time: calibrations of one gallery
  // may end together (several maintenance threads), and its file is
  // replaced through one temporary name.
  absl::Status Save(const std::string& gallery, Ptr calibration)
      ABSL_LOCKS_EXCLUDED(save_mu_);
  // Keeps the calibration in memory, whatever the disk says.
  void Keep(const std::string& gallery, Ptr calibration);
  // Drops it from memory and deletes its file (best effort: a file that
  // stays is replaced by the next Save or ignored once its gallery is
  // gone).
  void Forget(const std::string& gallery);

 private:
  CalibrationStore(std::string dir, storage::Env* env)
      : dir_(std::move(dir)), env_(env) {}
  std::string PathOf(const std::string& gallery) const;
  // Renames a file Open could not read to <path>.damaged-<UTC time> and
  // records it.
  void SealAside(const std::string& path, const std::string& gallery,
                 const absl::Status& why);

  // Empty: memory only.
  const std::string dir_;
  storage::Env* const env_ = storage::Env::Default();
  absl::Mutex save_mu_;
  mutable absl::Mutex mu_;
  std::map<std::string, Ptr> calibrations_ ABSL_GUARDED_BY(mu_);
  std::vector<QuarantineRecord> damaged_ ABSL_GUARDED_BY(mu_);
};

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_CALIBRATION_STORE_H_
