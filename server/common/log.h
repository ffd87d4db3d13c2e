// Server log lines on stderr: "<RFC 3339 UTC time> <level> <message>".
// One line per write, so lines from several threads do not interleave.
#ifndef CANDOR_SERVER_COMMON_LOG_H_
#define CANDOR_SERVER_COMMON_LOG_H_

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace candor {

inline void LogLine(const char* level, const std::string& message) {
  const std::string line = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      " ", level, " ", message, "\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

inline void LogInfo(const std::string& message) { LogLine("INFO", message); }
inline void LogWarning(const std::string& message) { LogLine("WARN", message); }
inline void LogError(const std::string& message) { LogLine("ERROR", message); }

}  // namespace candor

#endif  // CANDOR_SERVER_COMMON_LOG_H_
