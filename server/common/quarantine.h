// What start-up found damaged and moved aside (never erased), from any
// layer: a gallery, an audit log or checkpoint, a calibration file. Kept
// here, below them all, so telemetry and the gallery store report alike.
#ifndef CANDOR_SERVER_COMMON_QUARANTINE_H_
#define CANDOR_SERVER_COMMON_QUARANTINE_H_

#include <cstdint>
#include <string>

namespace candor {

struct QuarantineRecord {
  // "gallery", "audit_log", "audit_checkpoint" or "calibration".
  std::string kind;
  // The gallery's name, or the file's.
  std::string name;
  // Where it lies now; where it was when it could not be moved.
  std::string path;
  std::string reason;
  int64_t at_us = 0;
};

}  // namespace candor

#endif  // CANDOR_SERVER_COMMON_QUARANTINE_H_
