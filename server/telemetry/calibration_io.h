// A calibration on disk: a versioned, checksummed binary file replaced
// atomically.
//
// Layout (integers little-endian, floats as their IEEE-754 bits):
//   "CANDCAL1"  u32 format_version  u64 payload_bytes  payload  u32 crc32
// where crc32 (zlib) covers the payload, and the payload is
//   i64 created_at_us  u64 gallery_size  u64 gallery_version  u32 top_k
//   str source  u32 groups  { str group  u64 n  f32[n] nonmated_top1
//                             u64 m  f32[m] mated }...
// with str = u32 length + bytes. Scores are stored sorted, as Calibration
// holds them; -inf marks a search without a result or a missed mate.
#ifndef CANDOR_SERVER_TELEMETRY_CALIBRATION_IO_H_
#define CANDOR_SERVER_TELEMETRY_CALIBRATION_IO_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/telemetry/calibration.h"

namespace candor::telemetry {

inline constexpr uint32_t kCalibrationFormatVersion = 1;

std::string SerializeCalibration(const Calibration& calibration);

// DataLoss for a wrong magic, a truncated file or a checksum mismatch;
// FailedPrecondition for a format version this build does not read.
absl::StatusOr<Calibration> ParseCalibration(std::string_view bytes);

// Writes path.tmp, fsyncs it, renames it over path and fsyncs the folder, so
// a crash leaves either the old file or the new one.
absl::Status SaveCalibration(const Calibration& calibration,
                             const std::string& path);

// NotFound when the file does not exist.
absl::StatusOr<Calibration> LoadCalibration(const std::string& path);

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_CALIBRATION_IO_H_
