#include "clients/cpp/grpc_status.h"

#include "absl/strings/cord.h"
#include "google/rpc/status_error_info.pb.h"

namespace candor {

absl::Status ToAbslStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()),
                   status.error_message());
  google::rpc::Status details;
  if (!status.error_details().empty() &&
      details.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& any : details.details()) {
      google::rpc::ErrorInfo info;
      if (any.UnpackTo(&info)) {
        out.SetPayload(kErrorInfoPayloadUrl,
                       absl::Cord(info.SerializeAsString()));
        break;
      }
    }
  }
  return out;
}

std::string ErrorReason(const absl::Status& status) {
  const auto payload = status.GetPayload(kErrorInfoPayloadUrl);
  if (!payload.has_value()) return "";
  google::rpc::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return "";
  return info.reason();
}

}  // namespace candor
