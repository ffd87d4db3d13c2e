#include "server/telemetry/report.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace candor::telemetry {
namespace {

// The per-group rates that enter disparity and GARBE: labeled groups only.
struct LabeledRates {
  std::vector<GroupRate> fpir;
  std::vector<GroupRate> fnir;
};

LabeledRates Labeled(const std::vector<GroupScores>& groups, float t) {
  LabeledRates r;
  for (const GroupScores& g : groups) {
    if (g.group.empty()) continue;
    r.fpir.push_back({g.group, FpirAt(g, t)});
    r.fnir.push_back({g.group, FnirAt(g, t)});
  }
  return r;
}

double SizeRatio(const CalibrationInfo& info) {
  return static_cast<double>(info.gallery_size_now) /
         static_cast<double>(info.gallery_size_at_calibration);
}

GroupCalibration DescribeGroup(const GroupScores& g,
                               const std::vector<float>& thresholds,
                               double target_fpir) {
  GroupCalibration out;
  out.group = g.group;
  out.nonmated_searches = g.nonmated_top1.size();
  out.mated_searches = g.mated.size();
  out.points.reserve(thresholds.size());
  for (float t : thresholds) out.points.push_back({t, FpirAt(g, t), FnirAt(g, t)});
  out.threshold_for_target = ThresholdForTarget(g, target_fpir);
  return out;
}

}  // namespace

CalibrationInfo DescribeCalibration(const Calibration* calibration,
                                    const GalleryNow& now) {
  CalibrationInfo info;
  info.gallery_size_now = now.size;
  if (calibration == nullptr) return info;
  const CalibrationMeta& meta = calibration->meta();
  info.present = true;
  info.calibrated_at_us = meta.created_at_us;
  info.age_seconds = static_cast<double>(now.now_us - meta.created_at_us) / 1e6;
  info.gallery_size_at_calibration = meta.gallery_size;
  info.gallery_version_at_calibration = meta.gallery_version;
  info.source = meta.source;
  info.top_k = meta.top_k;
  const double n0 = static_cast<double>(meta.gallery_size);
  info.stale =
      std::fabs(static_cast<double>(now.size) - n0) / n0 > kStaleSizeFraction;
  return info;
}

ThresholdReport MakeThresholdReport(const Calibration* calibration,
                                    const GalleryNow& now, float threshold,
                                    ThresholdSource source) {
  ThresholdReport report;
  report.threshold = threshold;
  report.source = source;
  report.calibration = DescribeCalibration(calibration, now);
  if (calibration == nullptr) return report;
  const bool stale = report.calibration.stale;
  const double ratio = SizeRatio(report.calibration);
  report.fpir = FpirAt(calibration->overall(), threshold);
  report.fnir = FnirAt(calibration->overall(), threshold);
  if (stale) report.fpir_extrapolated = ExtrapolateFpir(report.fpir, ratio);
  for (const GroupScores& g : calibration->groups()) {
    GroupRates rates{g.group, FpirAt(g, threshold), FnirAt(g, threshold),
                     std::nullopt};
    if (stale) rates.fpir_extrapolated = ExtrapolateFpir(rates.fpir, ratio);
    report.groups.push_back(std::move(rates));
  }
  const LabeledRates labeled = Labeled(calibration->groups(), threshold);
  report.fpir_disparity = ComputeDisparity(labeled.fpir);
  report.fnir_disparity = ComputeDisparity(labeled.fnir);
  const std::optional<double> garbe = Garbe(labeled.fpir, labeled.fnir);
  report.garbe_defined = garbe.has_value();
  report.garbe = garbe.value_or(0.0);
  return report;
}

std::vector<float> DefaultThresholdGrid() {
  std::vector<float> grid;
  // Integer steps so that the grid hits 0.0 and 1.0 exactly.
  for (int i = -20; i <= 20; ++i) grid.push_back(static_cast<float>(i / 20.0));
  return grid;
}

absl::StatusOr<CalibrationReport> MakeCalibrationReport(
    const Calibration& calibration, const GalleryNow& now,
    std::vector<float> thresholds, double target_fpir) {
  if (!(target_fpir >= 0.0 && target_fpir <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("target FPIR must lie in [0, 1], got ", target_fpir));
  }
  if (thresholds.empty()) thresholds = DefaultThresholdGrid();
  for (float t : thresholds) {
    if (!(t >= -1.0f && t <= 1.0f)) {
      return absl::InvalidArgumentError(
          absl::StrCat("grid threshold ", t, " is outside [-1, 1]"));
    }
  }
  CalibrationReport report;
  report.calibration = DescribeCalibration(&calibration, now);
  report.top_k = calibration.meta().top_k;
  report.target_fpir = target_fpir;
  report.overall = DescribeGroup(calibration.overall(), thresholds, target_fpir);
  for (const GroupScores& g : calibration.groups()) {
    report.groups.push_back(DescribeGroup(g, thresholds, target_fpir));
  }
  report.threshold_for_target = calibration.ThresholdForAllGroups(target_fpir);
  for (float t : thresholds) {
    const LabeledRates labeled = Labeled(calibration.groups(), t);
    report.fpir_disparity.push_back(ComputeDisparity(labeled.fpir));
    report.fnir_disparity.push_back(ComputeDisparity(labeled.fnir));
    report.garbe.push_back(Garbe(labeled.fpir, labeled.fnir));
  }
  return report;
}

}  // namespace candor::telemetry
