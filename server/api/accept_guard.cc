#include "server/api/accept_guard.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>

#include "absl/base/const_init.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace candor::api {
namespace {

using Accept4Fn = int (*)(int, sockaddr*, socklen_t*, int);

// Above RLIM_INFINITY's stand-in the kernel refuses the limit (nr_open).
constexpr rlim_t kMaxSoftLimit = rlim_t{1} << 20;
// Connections one accept4() call may close before it reports EAGAIN: the
// listener's thread goes back to its other work; the next connection (or
// gRPC's next poll) drains the rest.
constexpr int kMaxDropsPerCall = 4096;

std::atomic<int> connection_ceiling{INT_MAX};
std::atomic<uint64_t> dropped{0};

ABSL_CONST_INIT absl::Mutex reserve_mu(absl::kConstInit);
// An fd held only to be given up when the process is out of them: with it
// closed, accept() can take the waiting connection and close it. -1: none.
int reserve_fd ABSL_GUARDED_BY(reserve_mu) = -1;

Accept4Fn LibcAccept4() {
  static const Accept4Fn libc =
      reinterpret_cast<Accept4Fn>(dlsym(RTLD_NEXT, "accept4"));
  return libc;
}

int OpenReserve() { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

enum class Shed { kOne, kBacklogEmpty, kNoReserve };

// The process is out of fds: closes the reserve, accepts and closes one
// waiting connection, and takes the reserve back.
Shed ShedOne(Accept4Fn libc, int listener) {
  absl::MutexLock lock(&reserve_mu);
  if (reserve_fd < 0) reserve_fd = OpenReserve();
  if (reserve_fd < 0) return Shed::kNoReserve;
  close(reserve_fd);
  const int fd = libc(listener, nullptr, nullptr, SOCK_CLOEXEC);
  const int accept_errno = errno;
  if (fd >= 0) close(fd);
  reserve_fd = OpenReserve();
  if (fd >= 0) return Shed::kOne;
  return accept_errno == EAGAIN || accept_errno == EWOULDBLOCK
             ? Shed::kBacklogEmpty
             : Shed::kNoReserve;
}

}  // namespace

FdLimits InstallAcceptGuard(int reserved_fds) {
  FdLimits limits;
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    limits.soft_before = rl.rlim_cur;
    limits.hard = rl.rlim_max;
    const rlim_t want = rl.rlim_max == RLIM_INFINITY
                            ? std::max(rl.rlim_cur, kMaxSoftLimit)
                            : rl.rlim_max;
    if (want > rl.rlim_cur) {
      rlimit raised = rl;
      raised.rlim_cur = want;
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
    }
    limits.soft = rl.rlim_cur;
  }
  const int64_t soft = static_cast<int64_t>(
      std::min<uint64_t>(limits.soft, static_cast<uint64_t>(INT_MAX)));
  const int64_t reserve =
      std::min<int64_t>(std::max(reserved_fds, 0), soft / 2);
  limits.connection_ceiling = static_cast<int>(soft - reserve);
  {
    absl::MutexLock lock(&reserve_mu);
    if (reserve_fd < 0) reserve_fd = OpenReserve();
  }
  LibcAccept4();  // resolved now, not on the first connection
  connection_ceiling.store(limits.connection_ceiling);
  return limits;
}

std::string DescribeFdLimits(const FdLimits& limits) {
  return absl::StrCat("fd limit ", limits.soft_before, " -> ", limits.soft,
                      " (hard ", limits.hard,
                      "); connections closed at once from fd ",
                      limits.connection_ceiling, " up (--reserved_fds)");
}

uint64_t AcceptGuardDropped() { return dropped.load(); }

}  // namespace candor::api

// Every accept4() of the process, libgrpc's and libmicrohttpd's included:
// the executable's definition comes first in symbol lookup.
extern "C" int accept4(int listener, sockaddr* addr, socklen_t* addr_len,
                       int flags) {
  using candor::api::Shed;
  const auto libc = candor::api::LibcAccept4();
  if (libc == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  for (int drops = 0; drops < candor::api::kMaxDropsPerCall;) {
    const int fd = libc(listener, addr, addr_len, flags);
    if (fd >= 0) {
      if (fd < candor::api::connection_ceiling.load(std::memory_order_relaxed)) {
        return fd;
      }
      close(fd);
      ++candor::api::dropped;
      ++drops;
      continue;
    }
    const int accept_errno = errno;
    if (accept_errno == ECONNABORTED) continue;  // the peer gave up waiting
    if (accept_errno != EMFILE && accept_errno != ENFILE) {
      errno = accept_errno;
      return -1;
    }
    switch (candor::api::ShedOne(libc, listener)) {
      case Shed::kOne:
        ++candor::api::dropped;
        ++drops;
        continue;
      case Shed::kBacklogEmpty:
      case Shed::kNoReserve:
        // EAGAIN keeps the listener armed: it is polled again, and the
        // next connection retries. Any other error would stop it for good.
        errno = EAGAIN;
        return -1;
    }
  }
  errno = EAGAIN;
  return -1;
}
