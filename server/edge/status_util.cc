#include "server/edge/status_util.h"

#include <optional>
#include <string>

#include "google/rpc/status_error_info.pb.h"
#include "server/telemetry/policy.h"

namespace candor::api {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());
  const auto reason = status.GetPayload(telemetry::kErrorInfoTypeUrl);
  if (!reason) return grpc::Status(code, message);
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(*reason));
  info.set_domain(telemetry::kErrorDomain);
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(message);
  details.add_details()->PackFrom(info);
  return grpc::Status(code, message, details.SerializeAsString());
}

}  // namespace candor::api
