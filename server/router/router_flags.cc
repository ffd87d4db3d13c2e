#include "server/router/router_flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "server/edge/common_flags.h"
#include "server/router/shard_set.h"

ABSL_FLAG(std::string, shards, "",
          "router: shard addresses host:port,host:port,... in placement "
          "order (the same order in every router, always)");
ABSL_FLAG(std::string, shards_dns, "",
          "router: NAME:PORT of the shards' headless Service; shard i is "
          "NAME-i.NAME (a StatefulSet's stable pod names)");
ABSL_FLAG(int, shard_count, 0,
          "router with --shards_dns: wait until exactly this many shard "
          "names resolve (0 = until two resolutions agree)");
ABSL_FLAG(int, shard_timeout_ms, 30000,
          "router: longest wait for one shard's answer; a shard past it is "
          "UNAVAILABLE (named)");

ABSL_FLAG(std::string, shard_tls_ca, "",
          "router: PEM bundle of the CAs that signed the shards' "
          "certificates; the router calls shards over mTLS with its own "
          "--tls_cert/--tls_key (the shards list it in --trusted_forwarders)");

namespace candor::router {

absl::StatusOr<RouterOptions> RouterOptionsFromFlags() {
  RouterOptions options;
  absl::Status common = api::CommonOptionsFromFlags(&options.server);
  if (!common.ok()) return common;
  const std::string shards = absl::GetFlag(FLAGS_shards);
  if (!shards.empty()) {
    auto list = ParseShardList(shards);
    if (!list.ok()) return list.status();
    options.shards = *std::move(list);
  }
  options.shards_dns = absl::GetFlag(FLAGS_shards_dns);
  options.shard_count = absl::GetFlag(FLAGS_shard_count);
  if (options.shard_count < 0) {
    return absl::InvalidArgumentError("--shard_count: must be >= 0");
  }
  const int timeout_ms = absl::GetFlag(FLAGS_shard_timeout_ms);
  if (timeout_ms <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shard_timeout_ms: must be positive, got ", timeout_ms));
  }
  options.shard_timeout = absl::Milliseconds(timeout_ms);
  options.shard_tls_ca = absl::GetFlag(FLAGS_shard_tls_ca);
  return options;
}

}  // namespace candor::router
