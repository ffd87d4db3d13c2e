// The flags both roles read (listen, data_dir, request limits, policy,
// audit, security, the gRPC server's limits, metrics, drain), turned into
// the common part of ServerOptions in one place. The server's own flags
// (backend, GEMM threads, batching, gallery limits, executors) are in
// server/api/flags.h; the router's in server/router/router_flags.h.
// absl flags also read a config file: --flagfile=candor.flags.
#ifndef CANDOR_SERVER_EDGE_COMMON_FLAGS_H_
#define CANDOR_SERVER_EDGE_COMMON_FLAGS_H_

#include "absl/status/status.h"
#include "server/api/options.h"

namespace candor::api {

// Reads the parsed common flags into *options; InvalidArgument names a bad
// flag value. Fields the common flags do not set keep their values.
absl::Status CommonOptionsFromFlags(ServerOptions* options);

// InvalidArgument naming --<flag> unless value > 0.
absl::Status PositiveFlag(const char* flag, int64_t value);

}  // namespace candor::api

#endif  // CANDOR_SERVER_EDGE_COMMON_FLAGS_H_
