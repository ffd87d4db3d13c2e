// The one place where absl::Status becomes grpc::Status. Abseil's codes
// have gRPC's numbering, so the mapping keeps the code and the message.
#ifndef CANDOR_SERVER_API_STATUS_UTIL_H_
#define CANDOR_SERVER_API_STATUS_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace candor::api {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_STATUS_UTIL_H_
