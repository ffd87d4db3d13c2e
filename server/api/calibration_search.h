// The server's side of the calibrator (server/telemetry/calibrator.h): the
// searches of a calibration run through the same SearchRunner as Search
// (the batcher and the gallery's index), a self-audit samples the
// gallery's own entries, and a labeled set's probes are checked and
// normalized as a search's are.
#ifndef CANDOR_SERVER_API_CALIBRATION_SEARCH_H_
#define CANDOR_SERVER_API_CALIBRATION_SEARCH_H_

#include <memory>

#include "server/api/options.h"
#include "server/api/search_runner.h"
#include "server/gallery/gallery.h"
#include "server/telemetry/calibrator.h"

namespace candor::api {

// `gallery` and `runner` must outlive the backend's use (one Calibrate).
telemetry::CalibrationBackend ServerCalibrationBackend(
    std::shared_ptr<gallery::Gallery> gallery, SearchRunner* runner,
    const LimitOptions& limits);

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_CALIBRATION_SEARCH_H_
