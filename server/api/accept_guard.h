// The fd limit and the listeners' accept(), against connection floods.
//
// Debian's gRPC (1.51) stops accepting for good once accept4() fails with
// anything but EAGAIN or EINTR (CVE-2023-4785): a flood of connections past
// the fd limit (EMFILE), or one connection reset while it waited
// (ECONNABORTED), leaves the server deaf until it restarts. candor-server
// therefore defines accept4() itself, in front of libc's: every listener in
// the process (gRPC's and /metrics') calls it. It
// - retries on ECONNABORTED;
// - on EMFILE or ENFILE frees a reserve fd, accepts and closes the waiting
//   connection, takes the reserve back, and goes on until the backlog is
//   empty (EAGAIN), so that the listener stays armed;
// - closes at once a connection whose fd lands within `reserved` of the
//   limit: that headroom stays free for data files (WAL segments,
//   snapshots, the audit log), which the flood would otherwise starve.
// Only linked into candor-server (InstallAcceptGuard pulls it in); test
// binaries keep libc's accept4.
#ifndef CANDOR_SERVER_API_ACCEPT_GUARD_H_
#define CANDOR_SERVER_API_ACCEPT_GUARD_H_

#include <cstdint>
#include <string>

namespace candor::api {

struct FdLimits {
  // The soft RLIMIT_NOFILE before and after raising it to the hard limit.
  uint64_t soft_before = 0;
  uint64_t soft = 0;
  uint64_t hard = 0;
  // Accepted connections get fds below this; the rest are closed.
  int connection_ceiling = 0;
};

// Raises the soft fd limit to the hard one, opens the reserve fd and sets
// the connection ceiling: the limit minus `reserved_fds`, but at least half
// the limit (a small limit still serves). Call once, before any listener
// starts. Returns what it did (for the start-up log).
FdLimits InstallAcceptGuard(int reserved_fds);

// One line for the log: "fd limit 1024 -> 524288 (hard), connections
// closed above fd 524032".
std::string DescribeFdLimits(const FdLimits& limits);

// Connections the guard closed (over the ceiling, or shed on EMFILE).
uint64_t AcceptGuardDropped();

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_ACCEPT_GUARD_H_
