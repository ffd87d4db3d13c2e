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

}  // namespace candor::cli

#endif  // CANDOR_CLIENTS_CLI_CALIBRATION_TABLE_H_
