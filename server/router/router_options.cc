#include "server/router/router_options.h"

#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "server/edge/common_flags.h"
#include "server/router/shard_set.h"

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
