// The flags both roles read (listen, data_dir, request limits, policy,
// audit, security, the gRPC server's limits, metrics, drain), turned into
// the common part of ServerOptions in one place, and the router's own
// (shards), defined beside them and read by RouterOptionsFromFlags
// (server/router/router_options.h). The server's own flags (backend, GEMM
// threads, batching, gallery limits, executors) are in server/api/flags.h.
// absl flags also read a config file: --flagfile=candor.flags.
#ifndef CANDOR_SERVER_EDGE_COMMON_FLAGS_H_
#define CANDOR_SERVER_EDGE_COMMON_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "server/api/options.h"

// The router's own flags (common_flags.cc says what each means).
ABSL_DECLARE_FLAG(std::string, shards);
ABSL_DECLARE_FLAG(std::string, shards_dns);
ABSL_DECLARE_FLAG(int, shard_count);
ABSL_DECLARE_FLAG(int, shard_timeout_ms);
ABSL_DECLARE_FLAG(std::string, shard_tls_ca);

namespace candor::api {

// Reads the parsed common flags into *options; InvalidArgument names a bad
// flag value. Fields the common flags do not set keep their values.
absl::Status CommonOptionsFromFlags(ServerOptions* options);

// InvalidArgument naming --<flag> unless value > 0.
absl::Status PositiveFlag(const char* flag, int64_t value);

}  // namespace candor::api

#endif  // CANDOR_SERVER_EDGE_COMMON_FLAGS_H_
