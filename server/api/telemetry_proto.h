// Telemetry's plain structs as API messages.
#ifndef CANDOR_SERVER_API_TELEMETRY_PROTO_H_
#define CANDOR_SERVER_API_TELEMETRY_PROTO_H_

#include "candor/v1/candor.pb.h"
#include "server/telemetry/policy.h"
#include "server/telemetry/report.h"

namespace candor::api {

void ToRateProto(const telemetry::Rate& rate, v1::Rate* out);
void ToThresholdReportProto(const telemetry::ThresholdReport& report,
                            v1::ThresholdReport* out);
void ToCalibrationReportProto(const telemetry::CalibrationReport& report,
                              const std::string& gallery,
                              v1::CalibrationReport* out);
void ToCalibrationInfoProto(const telemetry::CalibrationInfo& info,
                            v1::CalibrationInfo* out);

telemetry::Policy FromPolicyProto(const v1::Policy& policy);
v1::Policy ToPolicyProto(const telemetry::Policy& policy);

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_TELEMETRY_PROTO_H_
