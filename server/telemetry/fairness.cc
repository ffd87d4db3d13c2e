#include "server/telemetry/fairness.h"

#include <cmath>

namespace candor::telemetry {
namespace {

std::vector<double> MeasuredRates(const std::vector<GroupRate>& rates) {
  std::vector<double> x;
  for (const GroupRate& g : rates) {
    if (g.rate.searches > 0) x.push_back(g.rate.rate);
  }
  return x;
}

}  // namespace

Disparity ComputeDisparity(const std::vector<GroupRate>& rates) {
  Disparity d;
  const GroupRate* max = nullptr;
  const GroupRate* min = nullptr;
  int measured = 0;
  for (const GroupRate& g : rates) {
    if (g.rate.searches == 0) continue;
    ++measured;
    if (max == nullptr || g.rate.rate > max->rate.rate) max = &g;
    if (min == nullptr || g.rate.rate < min->rate.rate) min = &g;
  }
  if (max == nullptr) return d;
  d.max_group = max->group;
  d.max_rate = max->rate;
  d.min_group = min->group;
  d.min_rate = min->rate;
  if (measured >= 2 && min->rate.rate > 0.0) {
    d.defined = true;
    d.ratio = max->rate.rate / min->rate.rate;
  }
  return d;
}

std::optional<double> Gini(const std::vector<double>& x) {
  const size_t g = x.size();
  if (g < 2) return std::nullopt;
  double sum = 0.0;
  double abs_diffs = 0.0;
  for (size_t i = 0; i < g; ++i) {
    sum += x[i];
    for (size_t j = 0; j < g; ++j) abs_diffs += std::fabs(x[i] - x[j]);
  }
  if (sum <= 0.0) return 0.0;
  const double gd = static_cast<double>(g);
  const double mean = sum / gd;
  return gd / (gd - 1.0) * abs_diffs / (2.0 * gd * gd * mean);
}

std::optional<double> Garbe(const std::vector<GroupRate>& fpir,
                            const std::vector<GroupRate>& fnir,
                            double alpha) {
  const std::optional<double> gini_fpir = Gini(MeasuredRates(fpir));
  const std::optional<double> gini_fnir = Gini(MeasuredRates(fnir));
  if (!gini_fpir || !gini_fnir) return std::nullopt;
  return alpha * *gini_fpir + (1.0 - alpha) * *gini_fnir;
}

}  // namespace candor::telemetry
