// The router's flags (--shards, --shards_dns, ...) with those both roles
// read (server/edge/common_flags.h), turned into RouterOptions in one
// place. The server's own flags (backend, batching, ...) are not read.
#ifndef CANDOR_SERVER_ROUTER_ROUTER_FLAGS_H_
#define CANDOR_SERVER_ROUTER_ROUTER_FLAGS_H_

#include "absl/status/statusor.h"
#include "server/router/router_options.h"

namespace candor::router {

// Reads the parsed flags; InvalidArgument names a bad value.
absl::StatusOr<RouterOptions> RouterOptionsFromFlags();

}  // namespace candor::router

#endif  // CANDOR_SERVER_ROUTER_ROUTER_FLAGS_H_
