// One mapping from grpc::Status to absl::Status. The two code spaces are the
// same numbers, so code and message survive the trip unchanged; so does a
// google.rpc.ErrorInfo status detail, as a payload.
#ifndef CANDOR_CLIENTS_CPP_GRPC_STATUS_H_
#define CANDOR_CLIENTS_CPP_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace candor {

// The payload URL under which ToAbslStatus keeps the serialized ErrorInfo.
inline constexpr char kErrorInfoPayloadUrl[] =
    "type.googleapis.com/google.rpc.ErrorInfo";
// The reason the server gives when its policy refuses a search.
inline constexpr char kPolicyRejectReason[] = "POLICY_REJECT";

absl::Status ToAbslStatus(const grpc::Status& status);

// The ErrorInfo reason carried by `status` (e.g. "POLICY_REJECT"), or "".
std::string ErrorReason(const absl::Status& status);

}  // namespace candor

#endif  // CANDOR_CLIENTS_CPP_GRPC_STATUS_H_
