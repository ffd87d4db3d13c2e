#include "server/api/blocking_executor.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

namespace candor::api {

absl::StatusOr<std::unique_ptr<BlockingExecutor>> BlockingExecutor::Create(
    Options options) {
  if (options.threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.name, " executor: threads must be >= 1, got ",
                     options.threads));
  }
  if (options.max_queue < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.name, " executor: max_queue must be >= 0, got ",
                     options.max_queue));
  }
  std::unique_ptr<BlockingExecutor> executor(
      new BlockingExecutor(std::move(options)));
  absl::MutexLock lock(&executor->shutdown_mu_);
  for (int i = 0; i < executor->options_.threads; ++i) {
    executor->threads_.emplace_back([e = executor.get()] { e->WorkerLoop(); });
  }
  return executor;
}

BlockingExecutor::BlockingExecutor(Options options)
    : options_(std::move(options)) {}

BlockingExecutor::~BlockingExecutor() { Shutdown(); }

absl::Status BlockingExecutor::Submit(Task task) {
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    ++stats_.rejected;
    return absl::UnavailableError(absl::StrCat("server is shutting down (",
                                               options_.name,
                                               " work is no longer accepted)"));
  }
  // A task may wait only while every thread is busy.
  const int64_t idle = options_.threads - stats_.running;
  if (static_cast<int64_t>(queue_.size()) - idle >= options_.max_queue) {
    ++stats_.rejected;
    std::string raise;
    for (const std::string* flag :
         {&options_.threads_flag, &options_.queue_flag}) {
      if (flag->empty()) continue;
      absl::StrAppend(&raise, raise.empty() ? "; raise --" : " or --", *flag);
    }
    return absl::ResourceExhaustedError(absl::StrCat(
        "server busy: ", options_.threads, " ", options_.name,
        " calls running and ", queue_.size(), " waiting (the most is ",
        options_.max_queue, raise, "); retry later"));
  }
  queue_.push_back(std::move(task));
  return absl::OkStatus();
}

void BlockingExecutor::Shutdown() {
  absl::MutexLock shutdown_lock(&shutdown_mu_);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

BlockingExecutor::Stats BlockingExecutor::stats() const {
  absl::MutexLock lock(&mu_);
  Stats stats = stats_;
  stats.queued = static_cast<int64_t>(queue_.size());
  return stats;
}

void BlockingExecutor::WorkerLoop() {
  while (true) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &BlockingExecutor::HasWorkOrStopping));
      if (queue_.empty()) return;  // stopping, and nothing left to drain
      task = std::move(queue_.front());
      queue_.pop_front();
      ++stats_.running;
    }
    std::move(task)();
    absl::MutexLock lock(&mu_);
    --stats_.running;
    ++stats_.completed;
  }
}

}  // namespace candor::api
