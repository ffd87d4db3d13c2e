// The one place where absl::Status becomes grpc::Status. Abseil's codes
// have gRPC's numbering, so the mapping keeps the code and the message. A
// status that carries a reason (a policy rejection) also carries it as a
// google.rpc.ErrorInfo in the standard status details, so clients can tell
// a policy's refusal from any other FAILED_PRECONDITION.
#ifndef CANDOR_SERVER_EDGE_STATUS_UTIL_H_
#define CANDOR_SERVER_EDGE_STATUS_UTIL_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace candor::api {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace candor::api

#endif  // CANDOR_SERVER_EDGE_STATUS_UTIL_H_
