// A CalibrationReport as tables a person reads: per group, FPIR and FNIR at
// each threshold with counts and 95% intervals, the threshold that meets
// the target FPIR; then disparity and GARBE per threshold.
#ifndef CANDOR_CLIENTS_CLI_CALIBRATION_TABLE_H_
#define CANDOR_CLIENTS_CLI_CALIBRATION_TABLE_H_

#include <ostream>
#include <string>

#include "candor/v1/candor.pb.h"

namespace candor::cli {

// "0.1233 (37/300) [0.0903, 0.1656]", prefixed "~" when estimated.
std::string FormatRate(const v1::Rate& rate);

void PrintCalibrationTable(const v1::CalibrationReport& report,
                           std::ostream& out);

// Enum values as words: "requested", "policy"; "pass", "warn", "reject",
// "no policy".
std::string SourceWords(v1::ThresholdReport::Source source);
std::string OutcomeWords(v1::PolicyVerdict::Outcome outcome);

// What a search's threshold costs, as lines indented by two spaces: the
// threshold and where it came from, FPIR and FNIR overall and per group,
// disparity, GARBE and the policy verdict with its violations.
void PrintThresholdReport(const v1::ThresholdReport& report, std::ostream& out);

}  // namespace candor::cli

#endif  // CANDOR_CLIENTS_CLI_CALIBRATION_TABLE_H_
