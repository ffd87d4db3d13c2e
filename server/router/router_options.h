// The router's configuration: the server's common options (listen address,
// limits, policy, drain) plus where the shards are, and the one place it is
// read from the flags.
#ifndef CANDOR_SERVER_ROUTER_ROUTER_OPTIONS_H_
#define CANDOR_SERVER_ROUTER_ROUTER_OPTIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/api/options.h"

namespace candor::router {

struct RouterOptions {
  // listen, metrics_listen, store.data_dir (the router's own files:
  // router-calibrations/, router-policies/, the audit log and its key and
  // checkpoint, as a server keeps them), audit, limits, policy,
  // drain_timeout.
  api::ServerOptions server;
  // Shard addresses in placement order (--shards), or empty when they come
  // from DNS.
  std::vector<std::string> shards;
  // NAME:PORT of a StatefulSet's headless Service (--shards_dns).
  std::string shards_dns;
  // With shards_dns: the number of shards to wait for (0 = as many as
  // resolve, once two resolutions agree).
  int shard_count = 0;
  // Longest the router waits for one shard's answer (the caller's deadline
  // when sooner). A shard past it is UNAVAILABLE, named.
  absl::Duration shard_timeout = absl::Seconds(30);
  // How often the shard names are resolved again to detect a changed shard
  // count (which the router reports but never follows: see shard_dns.h).
  absl::Duration dns_refresh = absl::Seconds(30);
  // PEM bundle of the CAs that signed the shards' certificates: the router
  // then calls its shards over mTLS, presenting server.security's
  // tls_cert / tls_key. Empty: plaintext (only a router without TLS).
  std::string shard_tls_ca;
};

// Reads the parsed flags: those both roles read (server/edge/common_flags.h)
// and the router's own, never the server's (a server-only value cannot stop
// a router). InvalidArgument names a bad value.
absl::StatusOr<RouterOptions> RouterOptionsFromFlags();

}  // namespace candor::router

#endif  // CANDOR_SERVER_ROUTER_ROUTER_OPTIONS_H_
