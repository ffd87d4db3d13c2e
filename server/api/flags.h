// Command-line flags of candor-server's server role, turned into
// ServerOptions in one place: the flags both roles read
// (server/edge/common_flags.h) and the server's own (index backend, GEMM
// threads, batching, gallery limits, executors). absl flags also read a
// config file: --flagfile=candor.flags.
#ifndef CANDOR_SERVER_API_FLAGS_H_
#define CANDOR_SERVER_API_FLAGS_H_

#include "absl/status/statusor.h"
#include "server/api/options.h"

namespace candor::api {

// Reads the parsed flags; InvalidArgument names a bad flag value.
absl::StatusOr<ServerOptions> OptionsFromFlags();

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_FLAGS_H_
