#include "clients/cli/command.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"

namespace candor::cli {
namespace {

constexpr absl::string_view kUsagePayload = "candor.cli/usage";
constexpr int64_t kMaxBatchRows = 1024;
constexpr int64_t kMaxBatchBytes = int64_t{3} << 20;

}  // namespace

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayload, absl::Cord("1"));
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

std::unique_ptr<Client> MakeClient(const GlobalOptions& global) {
  return std::make_unique<Client>(global.server,
                                  absl::Seconds(global.timeout_s));
}

int64_t DefaultBatchRows(int64_t dim) {
  const int64_t by_bytes = kMaxBatchBytes / (std::max<int64_t>(dim, 1) * 4);
  return std::max<int64_t>(1, std::min(kMaxBatchRows, by_bytes));
}

nlohmann::json ProtoToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  // Printing a valid message cannot fail; an empty object stands in if the
  // library ever says otherwise.
  if (!google::protobuf::util::MessageToJsonString(message, &text, options)
           .ok()) {
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(text);
}

}  // namespace candor::cli
