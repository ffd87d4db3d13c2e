// Telemetry's plain structs as API messages.
#ifndef CANDOR_SERVER_TELEMETRY_TELEMETRY_PROTO_H_
#define CANDOR_SERVER_TELEMETRY_TELEMETRY_PROTO_H_

#include <string>

#include "absl/status/statusor.h"
#include "candor/v1/candor.pb.h"
#include "server/telemetry/calibration.h"
#include "server/telemetry/policy.h"
#include "server/telemetry/report.h"

namespace candor::telemetry {

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

// GetCalibration's answer from a calibration: the request's threshold grid
// (default grid when empty) and target FPIR (else the policy's max_fpir,
// else 0.001). InvalidArgument for a threshold outside [-1, 1] or a target
// outside (0, 1].
absl::StatusOr<v1::CalibrationReport> CalibrationReportFor(
    const telemetry::Calibration& calibration, const telemetry::GalleryNow& now,
    const telemetry::Policy& policy, const std::string& gallery,
    const v1::GetCalibrationRequest& request);

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_TELEMETRY_PROTO_H_
