// What a threshold costs on a gallery: the report attached to every answer,
// and the full report on a grid of thresholds.
#ifndef CANDOR_SERVER_TELEMETRY_REPORT_H_
#define CANDOR_SERVER_TELEMETRY_REPORT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/telemetry/calibration.h"
#include "server/telemetry/fairness.h"
#include "server/telemetry/rate.h"
#include "server/telemetry/verdict.h"

namespace candor::telemetry {

// A calibration is stale once the gallery size moved by more than this
// fraction of N0: FPIR grows with the number of impostors a probe meets.
inline constexpr double kStaleSizeFraction = 0.10;

// The gallery as it is when a report is made.
struct GalleryNow {
  uint64_t size = 0;
  int64_t now_us = 0;
};

struct CalibrationInfo {
  bool present = false;
  int64_t calibrated_at_us = 0;
  double age_seconds = 0.0;
  uint64_t gallery_size_at_calibration = 0;
  uint64_t gallery_version_at_calibration = 0;
  uint64_t gallery_size_now = 0;
  // |N - N0| / N0 > kStaleSizeFraction.
  bool stale = false;
  std::string source;
  int top_k = 0;
};

CalibrationInfo DescribeCalibration(const Calibration* calibration,
                                    const GalleryNow& now);

struct GroupRates {
  std::string group;
  Rate fpir;
  Rate fnir;
  // Set when the calibration is stale: FPIR at the current gallery size.
  std::optional<Rate> fpir_extrapolated;
};

enum class ThresholdSource { kRequest, kPolicy };

// Mirrors candor.v1.ThresholdReport. The disparities and GARBE compare the
// labeled groups only: unlabeled searches (group "") count toward the
// overall rates and appear in `groups`, but are no demographic group.
// They are computed from the measured rates, not the extrapolated ones.
struct ThresholdReport {
  float threshold = 0.0f;
  ThresholdSource source = ThresholdSource::kRequest;
  Rate fpir;
  Rate fnir;
  // Overall FPIR at the current gallery size, when stale (the proto carries
  // it per group only).
  std::optional<Rate> fpir_extrapolated;
  std::vector<GroupRates> groups;
  Disparity fpir_disparity;
  Disparity fnir_disparity;
  double garbe = 0.0;
  bool garbe_defined = false;
  CalibrationInfo calibration;
  // Filled by Evaluate (policy.h); kNoPolicy until then.
  Verdict verdict;
};

// The report at `threshold`. With no calibration (nullptr) every rate has
// searches == 0 and calibration.present is false.
ThresholdReport MakeThresholdReport(const Calibration* calibration,
                                    const GalleryNow& now, float threshold,
                                    ThresholdSource source);

// Mirrors candor.v1.GroupCalibration / ThresholdPoint.
struct ThresholdPoint {
  float threshold = 0.0f;
  Rate fpir;
  Rate fnir;
};

struct GroupCalibration {
  std::string group;
  uint64_t nonmated_searches = 0;
  uint64_t mated_searches = 0;
  std::vector<ThresholdPoint> points;
  std::optional<float> threshold_for_target;
};

// Mirrors candor.v1.CalibrationReport (the gallery name is the caller's).
struct CalibrationReport {
  CalibrationInfo calibration;
  int top_k = 0;
  double target_fpir = 0.0;
  GroupCalibration overall;
  std::vector<GroupCalibration> groups;
  std::optional<float> threshold_for_target;
  // One per grid threshold, in grid order.
  std::vector<Disparity> fpir_disparity;
  std::vector<Disparity> fnir_disparity;
  std::vector<std::optional<double>> garbe;
};

// -1.0, -0.95, ..., 1.0 (41 thresholds).
std::vector<float> DefaultThresholdGrid();

// The calibration's report on `thresholds` (empty = DefaultThresholdGrid()),
// with threshold_for_target at target_fpir. InvalidArgument for a threshold
// outside [-1, 1] or a target outside [0, 1].
absl::StatusOr<CalibrationReport> MakeCalibrationReport(
    const Calibration& calibration, const GalleryNow& now,
    std::vector<float> thresholds, double target_fpir);

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_REPORT_H_
