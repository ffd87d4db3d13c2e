// A calibration on disk: a versioned, checksummed file replaced
// atomically, through the storage layer's Env.
//
// Layout: "CANDCAL1", u32 format_version (2, little-endian), then one
// record framed by storage/record.h (length, CRC-32 of the payload, CRC-32
// of the header) whose payload is a CalibrationFile protobuf message
// (calibration_file.proto), and nothing after it. Scores are stored
// sorted, as Calibration holds them; -inf marks a search without a result
// or a missed mate.
//
// Format version 1 (a hand-rolled binary payload) is not read: such a file
// is refused with FailedPrecondition, and the gallery answers as
// uncalibrated until Calibrate runs again.
#ifndef CANDOR_SERVER_TELEMETRY_CALIBRATION_IO_H_
#define CANDOR_SERVER_TELEMETRY_CALIBRATION_IO_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/storage/env.h"
#include "server/telemetry/calibration.h"

namespace candor::telemetry {

inline constexpr uint32_t kCalibrationFormatVersion = 2;

std::string SerializeCalibration(const Calibration& calibration);

// DataLoss for a wrong magic, a truncated file, a checksum mismatch or a
// payload that does not parse; FailedPrecondition for a format version
// this build does not read.
absl::StatusOr<Calibration> ParseCalibration(std::string_view bytes);

// Writes path.tmp, syncs it, renames it over path and syncs the folder, so
// a crash leaves either the old file or the new one.
absl::Status SaveCalibration(storage::Env* env, const Calibration& calibration,
                             const std::string& path);

// NotFound when the file does not exist.
absl::StatusOr<Calibration> LoadCalibration(storage::Env* env,
                                            const std::string& path);

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_CALIBRATION_IO_H_
