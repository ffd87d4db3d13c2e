// ThreadSanitizer builds only (CANDOR_TSAN). Debian's Abseil is compiled
// without -fsanitize=thread, so TSAN cannot see that absl::Mutex, CondVar,
// Notification and BlockingCounter order memory between threads, and it
// would report every access they guard as a race. Targets passed to
// candor_tsan_annotate() (CMakeLists.txt at the top) are linked with
// -Wl,--wrap=<symbol> for each entry point below, so every call that
// candor's own code makes (the test, and the candor libraries linked into
// it) goes through a wrapper that states the happens-before edge the real
// function provides, then calls it. Races on data no Abseil primitive
// orders are still reported.
//
// The model is release/acquire on the primitive's address: an unlock (or a
// wait, which unlocks) releases, a lock (or a wait's return) acquires.
// Reader locks are modelled the same way, so TSAN sees an edge from one
// reader's unlock to the next reader's lock that the real mutex does not
// promise: a write made under a reader lock would go unreported.
//
// Conditions (LockWhen, Await) are evaluated by Abseil on whichever thread
// unlocks the mutex, reading the waiter's condition object and whatever it
// reads under a lock this model does not give that thread. The wrappers
// hand Abseil a condition that evaluates the caller's with TSAN ignoring
// its memory accesses, as Abseil's own TSAN build does.
//
// Not covered: Abseil calls made from inside other uninstrumented libraries
// (gRPC), whose memory accesses TSAN does not see either.
//
// The symbols are those of the installed Abseil (inline namespace
// absl::debian3); another Abseil fails to link here rather than silently.
#include <sanitizer/tsan_interface.h>

#include <type_traits>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

using absl::Condition;
using absl::CondVar;
using absl::Duration;
using absl::Mutex;
using absl::Time;

// The TSAN runtime's dynamic annotations (no public header declares them).
extern "C" {
void AnnotateIgnoreReadsBegin(const char* file, int line);
void AnnotateIgnoreReadsEnd(const char* file, int line);
void AnnotateIgnoreWritesBegin(const char* file, int line);
void AnnotateIgnoreWritesEnd(const char* file, int line);
}

namespace {

// Lock-like: the real call, then acquire.
template <typename R, typename... Params, typename... Args>
R CallThenAcquire(const void* sync, R (*real)(Params...), Args&&... args) {
  if constexpr (std::is_void_v<R>) {
    real(std::forward<Args>(args)...);
    __tsan_acquire(const_cast<void*>(sync));
  } else {
    R result = real(std::forward<Args>(args)...);
    __tsan_acquire(const_cast<void*>(sync));
    return result;
  }
}

// Unlock-like: release, then the real call.
template <typename R, typename... Params, typename... Args>
R ReleaseThenCall(const void* sync, R (*real)(Params...), Args&&... args) {
  __tsan_release(const_cast<void*>(sync));
  return real(std::forward<Args>(args)...);
}

// Waits on a held mutex release it while waiting and hold it again on
// return, whether or not the wait timed out.
template <typename R, typename... Params, typename... Args>
R ReleaseCallAcquire(const void* sync, R (*real)(Params...), Args&&... args) {
  __tsan_release(const_cast<void*>(sync));
  return CallThenAcquire(sync, real, std::forward<Args>(args)...);
}

// Through the void* constructor, whose call Abseil makes in its own
// (uninstrumented) code: the template one would read the wrapper in ours.
bool EvalIgnoringAccesses(void* arg) {
  const Condition* cond = static_cast<const Condition*>(arg);
  AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
  AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
  const bool result = cond->Eval();
  AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
  AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
  return result;
}

Condition Ignoring(const Condition& cond) {
  return Condition(&EvalIgnoringAccesses,
                   const_cast<void*>(static_cast<const void*>(&cond)));
}

}  // namespace

extern "C" {

// ---- Mutex
void __real__ZN4absl7debian35Mutex4LockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex4LockEv(Mutex* mu) {
  CallThenAcquire(mu, &__real__ZN4absl7debian35Mutex4LockEv, mu);
}
void __real__ZN4absl7debian35Mutex10ReaderLockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex10ReaderLockEv(Mutex* mu) {
  CallThenAcquire(mu, &__real__ZN4absl7debian35Mutex10ReaderLockEv, mu);
}
void __real__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond);
void __wrap__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond) {
  CallThenAcquire(
      mu, &__real__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE, mu, Ignoring(cond));
}
void __real__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond);
void __wrap__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond) {
  CallThenAcquire(
      mu, &__real__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE, mu,
      Ignoring(cond));
}

void __real__ZN4absl7debian35Mutex6UnlockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex6UnlockEv(Mutex* mu) {
  ReleaseThenCall(mu, &__real__ZN4absl7debian35Mutex6UnlockEv, mu);
}
void __real__ZN4absl7debian35Mutex12ReaderUnlockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex12ReaderUnlockEv(Mutex* mu) {
  ReleaseThenCall(mu, &__real__ZN4absl7debian35Mutex12ReaderUnlockEv, mu);
}

void __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond);
void __wrap__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond) {
  ReleaseCallAcquire(
      mu, &__real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE, mu, Ignoring(cond));
}
bool __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout);
bool __wrap__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout) {
  return ReleaseCallAcquire(
      mu,
      &__real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE,
      mu, Ignoring(cond), timeout);
}
bool __real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline);
bool __wrap__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline) {
  return ReleaseCallAcquire(
      mu,
      &__real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE,
      mu, Ignoring(cond), deadline);
}

// ---- CondVar (the edge is through the mutex, as for Await)
void __real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(CondVar* cv, Mutex* mu);
void __wrap__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(CondVar* cv, Mutex* mu) {
  ReleaseCallAcquire(mu, &__real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE, cv,
                     mu);
}
bool __real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    CondVar* cv, Mutex* mu, Duration timeout);
bool __wrap__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    CondVar* cv, Mutex* mu, Duration timeout) {
  return ReleaseCallAcquire(
      mu, &__real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE,
      cv, mu, timeout);
}
bool __real__ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(
    CondVar* cv, Mutex* mu, Time deadline);
bool __wrap__ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(
    CondVar* cv, Mutex* mu, Time deadline) {
  return ReleaseCallAcquire(
      mu, &__real__ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE,
      cv, mu, deadline);
}

// ---- Notification: Notify happens before a wait that sees it returns.
// A timed wait that ran out saw no Notify, so the acquire then orders
// nothing (TSAN's acquire of a location never released is a no-op).
void __real__ZN4absl7debian312Notification6NotifyEv(void* n);
void __wrap__ZN4absl7debian312Notification6NotifyEv(void* n) {
  ReleaseThenCall(n, &__real__ZN4absl7debian312Notification6NotifyEv, n);
}
void __real__ZNK4absl7debian312Notification19WaitForNotificationEv(
    const void* n);
void __wrap__ZNK4absl7debian312Notification19WaitForNotificationEv(
    const void* n) {
  CallThenAcquire(n, &__real__ZNK4absl7debian312Notification19WaitForNotificationEv,
                  n);
}
bool __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const void* n, Duration timeout);
bool __wrap__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const void* n, Duration timeout) {
  return CallThenAcquire(
      n,
      &__real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE,
      n, timeout);
}
bool __real__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
    const void* n, Time deadline);
bool __wrap__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
    const void* n, Time deadline) {
  return CallThenAcquire(
      n,
      &__real__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE,
      n, deadline);
}

// ---- BlockingCounter: each DecrementCount happens before Wait returns.
bool __real__ZN4absl7debian315BlockingCounter14DecrementCountEv(void* c);
bool __wrap__ZN4absl7debian315BlockingCounter14DecrementCountEv(void* c) {
  return ReleaseThenCall(
      c, &__real__ZN4absl7debian315BlockingCounter14DecrementCountEv, c);
}
void __real__ZN4absl7debian315BlockingCounter4WaitEv(void* c);
void __wrap__ZN4absl7debian315BlockingCounter4WaitEv(void* c) {
  CallThenAcquire(c, &__real__ZN4absl7debian315BlockingCounter4WaitEv, c);
}

}  // extern "C"
