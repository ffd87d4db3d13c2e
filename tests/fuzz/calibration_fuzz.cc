// A stored calibration from untrusted bytes: parsed or refused with a
// status; what parses serializes back to something that parses the same.
#include <cstdlib>

#include "server/telemetry/calibration_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto calibration = candor::telemetry::ParseCalibration(bytes);
  if (!calibration.ok()) return 0;
  const std::string again = candor::telemetry::SerializeCalibration(*calibration);
  auto round = candor::telemetry::ParseCalibration(again);
  if (!round.ok() ||
      candor::telemetry::SerializeCalibration(*round) != again) {
    std::abort();
  }
  return 0;
}
