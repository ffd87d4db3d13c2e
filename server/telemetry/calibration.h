// The measured score distributions behind FPIR(T) and FNIR(T) for one gallery
// at one size, per group and pooled.
//
// Definitions (NIST IR 8271, "Face Recognition Vendor Test (FRVT) Part 2:
// Identification", section 3):
//   FPIR_g(T) = #{non-mated searches of g with top-1 score >= T}
//               / #{non-mated searches of g}
//   FNIR_g(T) = #{mated searches of g whose mate scores < T or is not within
//               the top_k candidates} / #{mated searches of g}
// Each group keeps its scores sorted, so every rate is two binary searches.
#ifndef CANDOR_SERVER_TELEMETRY_CALIBRATION_H_
#define CANDOR_SERVER_TELEMETRY_CALIBRATION_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/telemetry/rate.h"

namespace candor::telemetry {

// The score of a search that found nothing: below every threshold.
inline constexpr float kNoScore = -std::numeric_limits<float>::infinity();

inline constexpr char kSourceLabeled[] = "labeled";
inline constexpr char kSourceSelfAudit[] = "self-audit";

// One calibration search whose subject is not enrolled.
struct NonMatedObservation {
  // The probe's group; "" when unlabeled.
  std::string group;
  // Best candidate's score in [-1, 1]; kNoScore when the search returned none.
  float top1_score = kNoScore;
};

// One calibration search whose subject is enrolled.
struct MatedObservation {
  std::string group;
  // The mate's score in [-1, 1]; ignored when mate_rank < 0.
  float mate_score = kNoScore;
  // 0-based rank of the mate's best entry among the candidates; -1 when it
  // was not among them. A rank >= top_k counts as not found.
  int mate_rank = -1;
};

struct CalibrationMeta {
  // Unix time of the calibration, microseconds.
  int64_t created_at_us = 0;
  // Gallery size N0 (live entries) and version when calibrated.
  uint64_t gallery_size = 0;
  uint64_t gallery_version = 0;
  // kSourceLabeled or kSourceSelfAudit.
  std::string source;
  // Rank within which a mate counts as found.
  int top_k = 10;
};

// One group's scores, each vector sorted ascending. Mated scores are the
// mate's score when it ranked within top_k and kNoScore otherwise, so that
// FNIR(T) is just the count below T.
struct GroupScores {
  std::string group;
  std::vector<float> nonmated_top1;
  std::vector<float> mated;
};

// FPIR and FNIR of one group at threshold T (scores >= T are returned). A T
// below -1 acts as -1: a search without a result never matches.
Rate FpirAt(const GroupScores& scores, float threshold);
Rate FnirAt(const GroupScores& scores, float threshold);

// The smallest T in [-1, 1] with FPIR(T) <= target_fpir: -1 when FPIR(-1)
// already meets it, else the float just above one of the observed scores.
// nullopt when no T in [-1, 1] reaches the target (the score to step over
// is 1.0) or when the group has no non-mated searches to measure.
std::optional<float> ThresholdForTarget(const GroupScores& scores,
                                        double target_fpir);

// Immutable once built: safe to read from many threads.
class Calibration {
 public:
  // Validates the metadata (gallery_size >= 1, top_k >= 1, a known source)
  // and every score (in [-1, 1], or kNoScore for a search with no result).
  static absl::StatusOr<Calibration> Build(
      CalibrationMeta meta, const std::vector<NonMatedObservation>& nonmated,
      const std::vector<MatedObservation>& mated);

  // The inverse of groups(): per-group scores, each vector sorted, group
  // names unique. Used when loading a calibration from disk.
  static absl::StatusOr<Calibration> FromGroups(CalibrationMeta meta,
                                                std::vector<GroupScores> groups);

  const CalibrationMeta& meta() const { return meta_; }
  // Every group seen, "" (unlabeled) included, sorted by name.
  const std::vector<GroupScores>& groups() const { return groups_; }
  // All groups pooled; its name is "".
  const GroupScores& overall() const { return overall_; }

  // The single T that holds every group with non-mated searches at or under
  // target_fpir (the largest of their ThresholdForTarget); nullopt when one
  // of them cannot be held or there are no non-mated searches at all.
  std::optional<float> ThresholdForAllGroups(double target_fpir) const;

 private:
  Calibration(CalibrationMeta meta, std::vector<GroupScores> groups);

  CalibrationMeta meta_;
  std::vector<GroupScores> groups_;
  GroupScores overall_;
};

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_CALIBRATION_H_
