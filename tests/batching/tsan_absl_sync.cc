// ThreadSanitizer builds only (CANDOR_TSAN). Debian's Abseil is compiled
// without -fsanitize=thread, so TSAN cannot see that absl::Mutex, CondVar,
// Notification and BlockingCounter order memory between threads, and it
// reports every access guarded by them as a race. The batching tests are
// linked with -Wl,--wrap=<symbol> for the Abseil entry points they use (see
// CMakeLists.txt); each wrapper states the happens-before edge the real
// function provides, then calls it. Races on data that no Abseil primitive
// orders are still reported.
//
// The symbols are those of the installed Abseil (inline namespace
// absl::debian3); another Abseil fails to link here rather than silently.
#include <sanitizer/tsan_interface.h>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

using absl::Condition;
using absl::CondVar;
using absl::Duration;
using absl::Mutex;

extern "C" {

void __real__ZN4absl7debian35Mutex4LockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex4LockEv(Mutex* mu) {
  __real__ZN4absl7debian35Mutex4LockEv(mu);
  __tsan_acquire(mu);
}

void __real__ZN4absl7debian35Mutex6UnlockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex6UnlockEv(Mutex* mu) {
  __tsan_release(mu);
  __real__ZN4absl7debian35Mutex6UnlockEv(mu);
}

// Await and the CondVar waits release the mutex while waiting and hold it
// again on return.
void __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond);
void __wrap__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond) {
  __tsan_release(mu);
  __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(mu, cond);
  __tsan_acquire(mu);
}

void __real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(CondVar* cv, Mutex* mu);
void __wrap__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(CondVar* cv, Mutex* mu) {
  __tsan_release(mu);
  __real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(cv, mu);
  __tsan_acquire(mu);
}

bool __real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    CondVar* cv, Mutex* mu, Duration timeout);
bool __wrap__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    CondVar* cv, Mutex* mu, Duration timeout) {
  __tsan_release(mu);
  const bool timed_out =
      __real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
          cv, mu, timeout);
  __tsan_acquire(mu);
  return timed_out;
}

// Notify happens before WaitForNotification returns; each DecrementCount
// happens before Wait returns.
void __real__ZN4absl7debian312Notification6NotifyEv(void* n);
void __wrap__ZN4absl7debian312Notification6NotifyEv(void* n) {
  __tsan_release(n);
  __real__ZN4absl7debian312Notification6NotifyEv(n);
}

void __real__ZNK4absl7debian312Notification19WaitForNotificationEv(
    const void* n);
void __wrap__ZNK4absl7debian312Notification19WaitForNotificationEv(
    const void* n) {
  __real__ZNK4absl7debian312Notification19WaitForNotificationEv(n);
  __tsan_acquire(const_cast<void*>(n));
}

bool __real__ZN4absl7debian315BlockingCounter14DecrementCountEv(void* c);
bool __wrap__ZN4absl7debian315BlockingCounter14DecrementCountEv(void* c) {
  __tsan_release(c);
  return __real__ZN4absl7debian315BlockingCounter14DecrementCountEv(c);
}

void __real__ZN4absl7debian315BlockingCounter4WaitEv(void* c);
void __wrap__ZN4absl7debian315BlockingCounter4WaitEv(void* c) {
  __real__ZN4absl7debian315BlockingCounter4WaitEv(c);
  __tsan_acquire(c);
}

}  // extern "C"
