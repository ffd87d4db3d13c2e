#include "server/telemetry/rate.h"

#include <algorithm>
#include <cmath>

namespace candor::telemetry {

Rate MakeRate(uint64_t errors, uint64_t searches) {
  Rate r;
  r.errors = errors;
  r.searches = searches;
  if (searches == 0) return r;
  const double n = static_cast<double>(searches);
  const double p = static_cast<double>(errors) / n;
  const double z2 = kZ95 * kZ95;
  const double denom = 1.0 + z2 / n;
  const double center = (p + z2 / (2.0 * n)) / denom;
  const double half =
      kZ95 * std::sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom;
  r.rate = p;
  // At 0 and n errors the bound is exactly 0 (resp. 1); rounding would
  // otherwise leave a residue of about 1e-17 on either side.
  r.ci_low = errors == 0 ? 0.0 : std::max(0.0, center - half);
  r.ci_high = errors == searches ? 1.0 : std::min(1.0, center + half);
  return r;
}

Rate ExtrapolateFpir(const Rate& measured, double size_ratio) {
  auto grow = [size_ratio](double fpir) {
    // 1 - (1 - x)^r computed as -expm1(r * log1p(-x)) keeps precision for
    // the small rates that matter here.
    if (fpir >= 1.0) return 1.0;
    return std::clamp(-std::expm1(size_ratio * std::log1p(-fpir)), 0.0, 1.0);
  };
  Rate r = measured;
  r.rate = grow(measured.rate);
  r.ci_low = grow(measured.ci_low);
  r.ci_high = grow(measured.ci_high);
  r.estimated = true;
  return r;
}

}  // namespace candor::telemetry
