// One mapping from grpc::Status to absl::Status. The two code spaces are the
// same numbers, so code and message survive the trip unchanged.
#ifndef CANDOR_CLIENTS_CPP_GRPC_STATUS_H_
#define CANDOR_CLIENTS_CPP_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace candor {

absl::Status ToAbslStatus(const grpc::Status& status);

}  // namespace candor

#endif  // CANDOR_CLIENTS_CPP_GRPC_STATUS_H_
