#include "server/telemetry/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"

namespace candor::telemetry {
namespace {

bool ValidScore(float s) { return s == kNoScore || (s >= -1.0f && s <= 1.0f); }

// A search's score is the inner product of two unit rows in float32: a row
// against itself, or against a copy of itself, can come out a few ulps
// above 1. Rounding that small is clamped into [-1, 1]; anything further out
// is a broken score and refused. 1e-3 covers float32 accumulation over
// 4096 dimensions with room to spare.
constexpr float kScoreRoundingSlack = 1e-3f;

// `s` clamped into [-1, 1] when within rounding of it; NaN otherwise.
float ClampRounding(float s) {
  if (s >= -1.0f - kScoreRoundingSlack && s <= 1.0f + kScoreRoundingSlack) {
    return std::clamp(s, -1.0f, 1.0f);
  }
  return std::numeric_limits<float>::quiet_NaN();
}

absl::Status ValidateMeta(const CalibrationMeta& meta) {
  if (meta.gallery_size == 0) {
    return absl::InvalidArgumentError(
        "calibration gallery_size is 0: FPIR depends on the gallery size, "
        "calibrate a gallery with entries");
  }
  if (meta.top_k < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("calibration top_k must be >= 1, got ", meta.top_k));
  }
  if (meta.source != kSourceLabeled && meta.source != kSourceSelfAudit) {
    return absl::InvalidArgumentError(
        absl::StrCat("calibration source must be \"", kSourceLabeled,
                     "\" or \"", kSourceSelfAudit, "\", got \"", meta.source,
                     "\""));
  }
  return absl::OkStatus();
}

absl::Status ValidateScores(const std::vector<float>& scores,
                            const std::string& group, const char* kind) {
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!ValidScore(scores[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(kind, " score ", scores[i], " of group \"", group,
                       "\" (index ", i, ") is outside [-1, 1]"));
    }
  }
  return absl::OkStatus();
}

// Count of scores >= t in an ascending vector. Every real score is >= -1, so
// a lower t acts as -1, and kNoScore (no result, missed mate) never counts.
uint64_t CountAtOrAbove(const std::vector<float>& sorted, float t) {
  if (!(t >= -1.0f)) t = -1.0f;
  return sorted.end() - std::lower_bound(sorted.begin(), sorted.end(), t);
}

}  // namespace

Rate FpirAt(const GroupScores& scores, float threshold) {
  return MakeRate(CountAtOrAbove(scores.nonmated_top1, threshold),
                  scores.nonmated_top1.size());
}

Rate FnirAt(const GroupScores& scores, float threshold) {
  const uint64_t n = scores.mated.size();
  return MakeRate(n - CountAtOrAbove(scores.mated, threshold), n);
}

std::optional<float> ThresholdForTarget(const GroupScores& scores,
                                        double target_fpir) {
  const std::vector<float>& s = scores.nonmated_top1;
  const uint64_t n = s.size();
  if (n == 0 || !(target_fpir >= 0.0)) return std::nullopt;
  // The most false positives k with k / n <= target; the division is
  // re-checked because target * n may round across an integer.
  const double nd = static_cast<double>(n);
  uint64_t k = static_cast<uint64_t>(
      std::min(nd, std::floor(target_fpir * nd)));
  while (k < n && static_cast<double>(k + 1) / nd <= target_fpir) ++k;
  while (k > 0 && static_cast<double>(k) / nd > target_fpir) --k;
  if (k >= n) return -1.0f;
  // At most k scores may be >= T: T must exceed s[n - k - 1], the (k+1)-th
  // highest score, and the smallest such float is the next one above it.
  const float t =
      std::max(-1.0f, std::nextafter(s[n - k - 1],
                                     std::numeric_limits<float>::infinity()));
  if (t > 1.0f) return std::nullopt;
  return t;
}

absl::StatusOr<Calibration> Calibration::Build(
    CalibrationMeta meta, const std::vector<NonMatedObservation>& nonmated,
    const std::vector<MatedObservation>& mated) {
  if (absl::Status s = ValidateMeta(meta); !s.ok()) return s;
  std::map<std::string, GroupScores> by_group;
  for (size_t i = 0; i < nonmated.size(); ++i) {
    NonMatedObservation o = nonmated[i];
    if (o.top1_score != kNoScore) o.top1_score = ClampRounding(o.top1_score);
    if (!ValidScore(o.top1_score)) {
      return absl::InvalidArgumentError(
          absl::StrCat("non-mated observation ", i, " has top-1 score ",
                       nonmated[i].top1_score, ", outside [-1, 1]"));
    }
    by_group[o.group].nonmated_top1.push_back(o.top1_score);
  }
  for (size_t i = 0; i < mated.size(); ++i) {
    MatedObservation o = mated[i];
    const bool found = o.mate_rank >= 0 && o.mate_rank < meta.top_k;
    if (found) o.mate_score = ClampRounding(o.mate_score);
    if (found && !(o.mate_score >= -1.0f && o.mate_score <= 1.0f)) {
      return absl::InvalidArgumentError(
          absl::StrCat("mated observation ", i, " has mate score ",
                       mated[i].mate_score, ", outside [-1, 1]"));
    }
    by_group[o.group].mated.push_back(found ? o.mate_score : kNoScore);
  }
  std::vector<GroupScores> groups;
  groups.reserve(by_group.size());
  for (auto& [name, scores] : by_group) {
    scores.group = name;
    std::sort(scores.nonmated_top1.begin(), scores.nonmated_top1.end());
    std::sort(scores.mated.begin(), scores.mated.end());
    groups.push_back(std::move(scores));
  }
  return Calibration(std::move(meta), std::move(groups));
}

absl::StatusOr<Calibration> Calibration::FromGroups(
    CalibrationMeta meta, std::vector<GroupScores> groups) {
  if (absl::Status s = ValidateMeta(meta); !s.ok()) return s;
  std::sort(groups.begin(), groups.end(),
            [](const GroupScores& a, const GroupScores& b) {
              return a.group < b.group;
            });
  for (size_t i = 0; i < groups.size(); ++i) {
    const GroupScores& g = groups[i];
    if (i > 0 && groups[i - 1].group == g.group) {
      return absl::InvalidArgumentError(
          absl::StrCat("group \"", g.group, "\" appears twice"));
    }
    for (const auto* v : {&g.nonmated_top1, &g.mated}) {
      if (!std::is_sorted(v->begin(), v->end())) {
        return absl::InvalidArgumentError(
            absl::StrCat("scores of group \"", g.group, "\" are not sorted"));
      }
    }
    if (absl::Status s = ValidateScores(g.nonmated_top1, g.group, "non-mated");
        !s.ok()) {
      return s;
    }
    if (absl::Status s = ValidateScores(g.mated, g.group, "mated"); !s.ok()) {
      return s;
    }
  }
  return Calibration(std::move(meta), std::move(groups));
}

Calibration::Calibration(CalibrationMeta meta, std::vector<GroupScores> groups)
    : meta_(std::move(meta)), groups_(std::move(groups)) {
  for (const GroupScores& g : groups_) {
    overall_.nonmated_top1.insert(overall_.nonmated_top1.end(),
                                  g.nonmated_top1.begin(),
                                  g.nonmated_top1.end());
    overall_.mated.insert(overall_.mated.end(), g.mated.begin(),
                          g.mated.end());
  }
  std::sort(overall_.nonmated_top1.begin(), overall_.nonmated_top1.end());
  std::sort(overall_.mated.begin(), overall_.mated.end());
}

std::optional<float> Calibration::ThresholdForAllGroups(
    double target_fpir) const {
  std::optional<float> all;
  for (const GroupScores& g : groups_) {
    if (g.nonmated_top1.empty()) continue;
    const std::optional<float> t = ThresholdForTarget(g, target_fpir);
    if (!t) return std::nullopt;
    all = all ? std::max(*all, *t) : *t;
  }
  return all;
}

}  // namespace candor::telemetry
