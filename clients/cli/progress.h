// Progress lines on standard error, only when it is a terminal: piped or
// logged output stays what the command prints. Each update rewrites the
// line in place ("\r"); Finish ends it.
#ifndef CANDOR_CLIENTS_CLI_PROGRESS_H_
#define CANDOR_CLIENTS_CLI_PROGRESS_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"

namespace candor::cli {

// "enroll: 2048/10000 rows (4312 rows/s)".
class RowProgress {
 public:
  // Prints nothing unless `enabled`.
  RowProgress(std::string what, int64_t total, bool enabled);
  ~RowProgress();
  void Update(int64_t done);
  // Ends the line (also done by the destructor).
  void Finish();

 private:
  const std::string what_;
  const int64_t total_;
  const bool enabled_;
  const absl::Time start_;
  bool open_ = false;
};

// "calibrate: running, 12 s" every half second on its own thread, for a
// call that reports no progress of its own.
class Ticker {
 public:
  Ticker(std::string what, bool enabled);
  ~Ticker();  // stops and ends the line

 private:
  void Run();

  const std::string what_;
  const absl::Time start_;
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace candor::cli

#endif  // CANDOR_CLIENTS_CLI_PROGRESS_H_
