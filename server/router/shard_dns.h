// Shard membership from Kubernetes DNS (--shards_dns=NAME:PORT, NAME the
// shards' headless Service).
//
// Choice: the router resolves the StatefulSet's stable per-pod names
// <svc>-0.<svc>, <svc>-1.<svc>, ... with getaddrinfo until one does not
// exist (NXDOMAIN), and dials each shard by that name. Not the Service's
// A records: their order is the resolver's, and an IP says nothing about
// which shard's volume is behind it. The ordinal is the shard index, so
// the placement (placement.h) is the same in every router and survives
// rescheduling; gRPC re-resolves the name whenever a connection drops, so
// a shard that returns with a new IP is found again.
//
// The shard count is fixed when the router starts. A shard whose name has
// not appeared yet (its pod not created) would shorten the list, so the
// router waits until two resolutions a few seconds apart agree (or until
// --shard_count names resolve), and re-resolves periodically only to log
// a changed count: following it would move subjects between shards, which
// the router does not do.
#ifndef CANDOR_SERVER_ROUTER_SHARD_DNS_H_
#define CANDOR_SERVER_ROUTER_SHARD_DNS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace candor::router {

// "svc:port" -> "svc-0.svc:port", "svc-1.svc:port", ... for every ordinal
// that resolves, in order (a dotted NAME puts the ordinal on its first
// label: "a.b" -> "a-0.a.b"). Unavailable when the resolver fails other
// than with "no such name"; InvalidArgument for a NAME without a port.
absl::StatusOr<std::vector<std::string>> ResolveShardNames(
    const std::string& name_port);

// Resolves until the list is settled: `expected` names when expected > 0,
// else two equal non-empty lists `interval` apart. DeadlineExceeded after
// `timeout`.
absl::StatusOr<std::vector<std::string>> WaitForShardNames(
    const std::string& name_port, int expected, absl::Duration interval,
    absl::Duration timeout);

}  // namespace candor::router

#endif  // CANDOR_SERVER_ROUTER_SHARD_DNS_H_
