#include "server/api/blocking_executor.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace candor::api {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<BlockingExecutor> Make(int threads, int max_queue) {
  BlockingExecutor::Options options;
  options.name = "test";
  options.threads_flag = "test_threads";
  options.queue_flag = "test_queue";
  options.threads = threads;
  options.max_queue = max_queue;
  auto executor = BlockingExecutor::Create(options);
  EXPECT_TRUE(executor.ok()) << executor.status();
  return *std::move(executor);
}

TEST(BlockingExecutor, RejectsOptionsOutOfRange) {
  BlockingExecutor::Options options;
  options.threads = 0;
  EXPECT_EQ(BlockingExecutor::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.threads = 1;
  options.max_queue = -1;
  EXPECT_EQ(BlockingExecutor::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BlockingExecutor, RunsTasksInOrderOnItsOwnThreads) {
  auto executor = Make(1, 16);
  absl::Mutex mu;
  std::vector<int> order;
  std::vector<std::thread::id> where;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(executor
                    ->Submit([&, i] {
                      absl::MutexLock lock(&mu);
                      order.push_back(i);
                      where.push_back(std::this_thread::get_id());
                    })
                    .ok());
  }
  executor->Shutdown();
  EXPECT_THAT(order, ElementsAre(0, 1, 2, 3, 4));
  for (const auto& id : where) EXPECT_NE(id, std::this_thread::get_id());
  EXPECT_EQ(executor->stats().completed, 5);
}

TEST(BlockingExecutor, AFullQueueRefusesWithResourceExhausted) {
  auto executor = Make(2, 1);
  absl::Notification release;
  std::atomic<int> started{0}, ran{0};
  auto hold = [&] {
    ++started;
    release.WaitForNotification();
    ++ran;
  };
  // Two running (one per thread), one waiting: full.
  ASSERT_TRUE(executor->Submit(hold).ok());
  ASSERT_TRUE(executor->Submit(hold).ok());
  while (started.load() < 2) std::this_thread::yield();
  ASSERT_TRUE(executor->Submit(hold).ok());
  bool destroyed_uncalled = false;
  struct Flag {
    bool* flag;
    ~Flag() {
      if (flag != nullptr) *flag = true;
    }
  };
  auto refused = executor->Submit(
      [flag = std::make_shared<Flag>(Flag{&destroyed_uncalled})] {
        flag->flag = nullptr;
      });
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(), HasSubstr("--test_threads or --test_queue"));
  EXPECT_TRUE(destroyed_uncalled);
  EXPECT_EQ(executor->stats().rejected, 1);
  EXPECT_EQ(executor->stats().running, 2);
  EXPECT_EQ(executor->stats().queued, 1);
  release.Notify();
  executor->Shutdown();
  EXPECT_EQ(ran.load(), 3);
}

TEST(BlockingExecutor, ShutdownRunsWhatIsQueuedThenRefuses) {
  auto executor = Make(1, 8);
  absl::Notification release;
  std::atomic<int> ran{0};
  ASSERT_TRUE(executor
                  ->Submit([&] {
                    release.WaitForNotification();
                    ++ran;
                  })
                  .ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(executor->Submit([&] { ++ran; }).ok());
  }
  std::thread stopper([&] { executor->Shutdown(); });
  // Shutdown has begun once a new task is refused.
  absl::Status status;
  do {
    status = executor->Submit([] {});
    if (status.ok()) std::this_thread::yield();
  } while (status.ok() && ran.load() == 0);
  release.Notify();
  stopper.join();
  EXPECT_EQ(ran.load(), 6);
  EXPECT_EQ(executor->Submit([] {}).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace candor::api
