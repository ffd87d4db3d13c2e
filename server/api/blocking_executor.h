// A small fixed pool of threads with a bounded queue, for the work of an RPC
// that blocks: waiting for a WAL fsync, compacting, erasing a gallery,
// training an index, running a calibration's searches. gRPC's callback
// handlers must return promptly: its callback threads are few and shared by
// every call, health checks included, so a handler that blocks on disk or
// on the batcher delays everyone. A handler hands such work here and
// finishes its reactor from the task.
//
// Written here because neither library the server uses offers one in
// public API: Abseil's thread pool is internal (absl/synchronization/
// internal), gRPC's ThreadPoolInterface and EventEngine executors are
// internal to its C++ core; and a pool of a few dozen lines whose queue
// bound and refusal we control beats a dependency for it.
#ifndef CANDOR_SERVER_API_BLOCKING_EXECUTOR_H_
#define CANDOR_SERVER_API_BLOCKING_EXECUTOR_H_

#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace candor::api {

class BlockingExecutor {
 public:
  struct Options {
    // Names the pool in errors ("maintenance"), and the flags that size
    // its threads and its queue (named in a refusal; may be empty).
    std::string name = "blocking";
    std::string threads_flag;
    std::string queue_flag;
    int threads = 4;
    // Tasks waiting for a thread (not counting those running).
    int max_queue = 64;
  };

  struct Stats {
    int64_t running = 0;
    int64_t queued = 0;
    int64_t completed = 0;
    int64_t rejected = 0;
  };

  using Task = absl::AnyInvocable<void() &&>;

  // InvalidArgument for threads < 1 or max_queue < 0. Starts the threads.
  static absl::StatusOr<std::unique_ptr<BlockingExecutor>> Create(
      Options options);
  // Calls Shutdown().
  ~BlockingExecutor();
  BlockingExecutor(const BlockingExecutor&) = delete;
  BlockingExecutor& operator=(const BlockingExecutor&) = delete;

  // Runs `task` on one of the threads, in submission order. Refused (the
  // task is destroyed uncalled) with ResourceExhausted when max_queue tasks
  // already wait, and with Unavailable once Shutdown() has begun.
  absl::Status Submit(Task task);

  // Refuses new tasks, runs every task already queued, joins the threads.
  // Idempotent; must not be called from a task.
  void Shutdown();

  Stats stats() const;
  const Options& options() const { return options_; }

 private:
  explicit BlockingExecutor(Options options);
  void WorkerLoop();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !queue_.empty();
  }

  const Options options_;
  mutable absl::Mutex mu_;
  std::deque<Task> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);

  absl::Mutex shutdown_mu_;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(shutdown_mu_);
};

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_BLOCKING_EXECUTOR_H_
