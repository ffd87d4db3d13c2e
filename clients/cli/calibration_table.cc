#include "clients/cli/calibration_table.h"

#include "absl/strings/str_format.h"

namespace candor::cli {
namespace {

std::string FormatDisparity(const v1::Disparity& d) {
  if (!d.defined()) return "undefined";
  return absl::StrFormat("%.2f (%s/%s)", d.ratio(), d.max_group(),
                         d.min_group());
}

std::string GroupName(const std::string& group) {
  return group.empty() ? "(no group)" : group;
}

void PrintGroup(const std::string& title, const v1::GroupCalibration& group,
                double target_fpir, std::ostream& out) {
  out << absl::StrFormat("%s: %d non-mated, %d mated searches\n", title,
                         group.nonmated_searches(), group.mated_searches());
  out << absl::StrFormat("  %-9s  %-36s  %s\n", "threshold", "FPIR", "FNIR");
  for (const v1::ThresholdPoint& point : group.points()) {
    out << absl::StrFormat("  %-9.3f  %-36s  %s\n", point.threshold(),
                           FormatRate(point.fpir()), FormatRate(point.fnir()));
  }
  if (group.has_threshold_for_target()) {
    out << absl::StrFormat("  threshold for FPIR <= %g: %.4f\n", target_fpir,
                           group.threshold_for_target());
  } else {
    out << absl::StrFormat("  threshold for FPIR <= %g: none in [-1, 1]\n",
                           target_fpir);
  }
}

}  // namespace

std::string FormatRate(const v1::Rate& rate) {
  return absl::StrFormat(
      "%s%.4f (%d/%d) [%.4f, %.4f]", rate.estimated() ? "~" : "", rate.rate(),
      rate.errors(), rate.searches(), rate.ci_low(), rate.ci_high());
}

void PrintCalibrationTable(const v1::CalibrationReport& report,
                           std::ostream& out) {
  const v1::CalibrationInfo& info = report.calibration();
  out << "gallery " << report.gallery() << "\n";
  if (!info.present()) {
    out << "no calibration stored\n";
    return;
  }
  out << absl::StrFormat(
      "calibration: %s, %.0f s old, gallery size %d at calibration, %d now%s, "
      "top_k %d\n\n",
      info.source(), info.age_seconds(), info.gallery_size_at_calibration(),
      info.gallery_size_now(), info.stale() ? " (STALE)" : "", report.top_k());
  PrintGroup("all groups", report.overall(), report.target_fpir(), out);
  for (const v1::GroupCalibration& group : report.groups()) {
    out << "\n";
    PrintGroup("group " + GroupName(group.group()), group, report.target_fpir(),
               out);
  }
  out << "\n";
  if (report.has_threshold_for_target()) {
    out << absl::StrFormat(
        "threshold holding every group under FPIR %g: %.4f\n",
        report.target_fpir(), report.threshold_for_target());
  } else {
    out << absl::StrFormat("no threshold holds every group under FPIR %g\n",
                           report.target_fpir());
  }
  const int points = report.overall().points_size();
  if (report.fpir_disparity_size() != points) return;
  out << absl::StrFormat("\n  %-9s  %-24s  %-24s  %s\n", "threshold",
                         "FPIR max/min", "FNIR max/min", "GARBE");
  for (int i = 0; i < points; ++i) {
    const std::string fnir = i < report.fnir_disparity_size()
                                 ? FormatDisparity(report.fnir_disparity(i))
                                 : "-";
    const std::string garbe = i < report.garbe_size()
                                  ? absl::StrFormat("%.4f", report.garbe(i))
                                  : "-";
    out << absl::StrFormat(
        "  %-9.3f  %-24s  %-24s  %s\n", report.overall().points(i).threshold(),
        FormatDisparity(report.fpir_disparity(i)), fnir, garbe);
  }
}

std::string SourceWords(v1::ThresholdReport::Source source) {
  switch (source) {
    case v1::ThresholdReport::REQUEST:
      return "requested";
    case v1::ThresholdReport::POLICY:
      return "policy";
    default:
      return "unspecified";
  }
}

std::string OutcomeWords(v1::PolicyVerdict::Outcome outcome) {
  switch (outcome) {
    case v1::PolicyVerdict::PASS:
      return "pass";
    case v1::PolicyVerdict::WARN:
      return "warn";
    case v1::PolicyVerdict::REJECT:
      return "reject";
    case v1::PolicyVerdict::NO_POLICY:
      return "no policy";
    default:
      return "unspecified";
  }
}

void PrintThresholdReport(const v1::ThresholdReport& report,
                          std::ostream& out) {
  if (!report.calibration().present()) {
    out << absl::StrFormat("  threshold %.3f (%s); no calibration stored\n",
                           report.threshold(), SourceWords(report.source()));
    return;
  }
  out << absl::StrFormat("  threshold %.3f (%s), calibration %s%s\n",
                         report.threshold(), SourceWords(report.source()),
                         report.calibration().source(),
                         report.calibration().stale() ? ", STALE" : "");
  out << "  overall FPIR " << FormatRate(report.fpir()) << "  FNIR "
      << FormatRate(report.fnir()) << "\n";
  for (const v1::GroupRates& g : report.groups()) {
    out << absl::StrFormat("  group %-10s FPIR %s  FNIR %s\n",
                           GroupName(g.group()), FormatRate(g.fpir()),
                           FormatRate(g.fnir()));
  }
  const v1::Disparity& d = report.fpir_disparity();
  out << "  FPIR disparity (max/min): "
      << (d.defined() ? absl::StrFormat("%.2f (%s vs %s)", d.ratio(),
                                        d.max_group(), d.min_group())
                      : std::string("undefined"))
      << "\n  GARBE: "
      << (report.garbe_defined() ? absl::StrFormat("%.4f", report.garbe())
                                 : std::string("undefined"))
      << "\n  policy verdict: " << OutcomeWords(report.verdict().outcome())
      << "\n";
  for (const std::string& violation : report.verdict().violations()) {
    out << "    " << violation << "\n";
  }
}

}  // namespace candor::cli
