#include "clients/cli/progress.h"

#include <chrono>
#include <iostream>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace candor::cli {

RowProgress::RowProgress(std::string what, int64_t total, bool enabled)
    : what_(std::move(what)),
      total_(total),
      enabled_(enabled),
      start_(absl::Now()) {}

RowProgress::~RowProgress() { Finish(); }

void RowProgress::Update(int64_t done) {
  if (!enabled_) return;
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
  std::cerr << absl::StrFormat("\r%s: %d/%d rows (%.0f rows/s)", what_, done,
                               total_, seconds > 0 ? done / seconds : 0.0)
            << std::flush;
  open_ = true;
}

void RowProgress::Finish() {
  if (!open_) return;
  std::cerr << "\n" << std::flush;
  open_ = false;
}

Ticker::Ticker(std::string what, bool enabled)
    : what_(std::move(what)), start_(absl::Now()) {
  if (enabled) thread_ = std::thread([this] { Run(); });
}

Ticker::~Ticker() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
  std::cerr << "\n" << std::flush;
}

void Ticker::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  do {
    std::cerr << absl::StrFormat("\r%s: running, %.0f s", what_,
                                 absl::ToDoubleSeconds(absl::Now() - start_))
              << std::flush;
  } while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(500),
                              [this] { return stop_; }));
}

}  // namespace candor::cli
