// Command-line flags of candor-server, turned into ServerOptions in one
// place. absl flags also read a config file: --flagfile=candor.flags.
#ifndef CANDOR_SERVER_API_FLAGS_H_
#define CANDOR_SERVER_API_FLAGS_H_

#include "absl/status/statusor.h"
#include "server/api/options.h"

namespace candor::api {

// Reads the parsed flags; InvalidArgument names a bad flag value.
absl::StatusOr<ServerOptions> OptionsFromFlags();

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_FLAGS_H_
