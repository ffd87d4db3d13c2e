// Between-group comparisons of error rates: NIST's max/min ratio and Howard
// et al.'s GARBE.
#ifndef CANDOR_SERVER_TELEMETRY_FAIRNESS_H_
#define CANDOR_SERVER_TELEMETRY_FAIRNESS_H_

#include <optional>
#include <string>
#include <vector>

#include "server/telemetry/rate.h"

namespace candor::telemetry {

// The default weight of FPIR against FNIR in GARBE.
inline constexpr double kGarbeAlpha = 0.5;

struct GroupRate {
  std::string group;
  Rate rate;
};

// max_g rate_g / min_g rate_g (NIST IR 8280, "Face Recognition Vendor Test
// Part 3: Demographic Effects", reports this ratio).
struct Disparity {
  // False with fewer than two groups measured, or when the lowest rate is 0;
  // max/min groups and their rates are still filled to say why.
  bool defined = false;
  double ratio = 0.0;
  std::string max_group;
  std::string min_group;
  Rate max_rate;
  Rate min_rate;
};

// The max/min ratio over the groups with searches > 0. Ties keep the group
// that comes first in `rates`.
Disparity ComputeDisparity(const std::vector<GroupRate>& rates);

// The Gini coefficient with the small-sample correction G / (G - 1):
//   Gini(x) = G / (G - 1) * sum_i sum_j |x_i - x_j| / (2 G^2 mean(x)).
// nullopt when G < 2. When mean(x) == 0 every x_i is 0 (rates are >= 0):
// there is no inequality, so the result is 0, never NaN.
std::optional<double> Gini(const std::vector<double>& x);

// GARBE = alpha * Gini(FPIR_g) + (1 - alpha) * Gini(FNIR_g) (Howard, Laird,
// Rubin, Sirotin, Tipton, Vemury, "Evaluating Proposed Fairness Models for
// Face Recognition Algorithms", 2022; ISO/IEC 19795-10). Each Gini is taken
// over the groups with searches > 0 of its kind; nullopt when either has
// fewer than two such groups.
std::optional<double> Garbe(const std::vector<GroupRate>& fpir,
                            const std::vector<GroupRate>& fnir,
                            double alpha = kGarbeAlpha);

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_FAIRNESS_H_
