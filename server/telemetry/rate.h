// A measured error rate with its counts and a 95% confidence interval, so a
// rate from 40 searches never reads like one from 40,000.
#ifndef CANDOR_SERVER_TELEMETRY_RATE_H_
#define CANDOR_SERVER_TELEMETRY_RATE_H_

#include <cstdint>

namespace candor::telemetry {

// The two-sided 95% normal quantile, Phi^-1(0.975).
inline constexpr double kZ95 = 1.959963984540054;

struct Rate {
  // False positives (FPIR) or false negatives (FNIR) among searches.
  uint64_t errors = 0;
  uint64_t searches = 0;
  // errors / searches; 0 when searches == 0 ("no data", CI [0, 1]).
  double rate = 0.0;
  // 95% Wilson score interval.
  double ci_low = 0.0;
  double ci_high = 1.0;
  // True when the figures are extrapolated, not counted.
  bool estimated = false;
};

// The rate errors / searches with its 95% Wilson score interval
// (Wilson 1927; Brown, Cai & DasGupta 2001 recommend it over the Wald
// interval for small counts and rates near 0). Requires errors <= searches.
Rate MakeRate(uint64_t errors, uint64_t searches);

// FPIR measured on a gallery of N0 entries, extrapolated to N entries as
// 1 - (1 - FPIR)^(N / N0): each non-mated search then meets N / N0 times as
// many impostors. Applied to the rate and to both CI bounds; the counts stay
// those measured. size_ratio = N / N0 > 0.
Rate ExtrapolateFpir(const Rate& measured, double size_ratio);

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_RATE_H_
