// Policy <-> JSON, the per-gallery policy blob.
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "server/telemetry/policy.h"

namespace candor::telemetry {
namespace {

constexpr char kReject[] = "reject";
constexpr char kWarn[] = "warn";

}  // namespace

std::string PolicyToJson(const Policy& policy) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (policy.min_threshold) j["min_threshold"] = *policy.min_threshold;
  if (policy.max_fpir) j["max_fpir"] = *policy.max_fpir;
  if (policy.max_disparity) j["max_disparity"] = *policy.max_disparity;
  if (policy.action == PolicyAction::kReject) j["action"] = kReject;
  if (policy.action == PolicyAction::kWarn) j["action"] = kWarn;
  return j.dump();
}

absl::StatusOr<Policy> PolicyFromJson(std::string_view json) {
  const nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("policy is not a JSON object");
  }
  Policy policy;
  for (const auto& [key, value] : j.items()) {
    if (key == "action") {
      if (value == kReject) {
        policy.action = PolicyAction::kReject;
      } else if (value == kWarn) {
        policy.action = PolicyAction::kWarn;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("policy action must be \"reject\" or \"warn\", got ",
                         value.dump()));
      }
      continue;
    }
    if (!value.is_number()) {
      return absl::InvalidArgumentError(
          absl::StrCat("policy field ", key, " is not a number"));
    }
    if (key == "min_threshold") {
      policy.min_threshold = value.get<float>();
    } else if (key == "max_fpir") {
      policy.max_fpir = value.get<double>();
    } else if (key == "max_disparity") {
      policy.max_disparity = value.get<double>();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown policy field \"", key, "\""));
    }
  }
  if (absl::Status s = ValidatePolicy(policy); !s.ok()) return s;
  return policy;
}

}  // namespace candor::telemetry
