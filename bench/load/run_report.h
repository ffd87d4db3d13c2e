// The end-of-run report of candor-bench, for people (text) or machines
// (JSON).
#ifndef CANDOR_BENCH_LOAD_RUN_REPORT_H_
#define CANDOR_BENCH_LOAD_RUN_REPORT_H_

#include <cstdint>
#include <string>

#include "bench/load/latency_stats.h"
#include "bench/load/load_driver.h"

namespace candor::load {

struct RunDescription {
  std::string address;
  std::string gallery;
  LoadPlan plan;
  int64_t batch = 1;
  int64_t dim = 0;
  // The gallery's, as the server reports it (gallery_setup.h's names).
  std::string precision;
};

struct RunReport {
  RunDescription run;
  RunTotals totals;
  LatencySummary latency;
  // Successful calls (and their probes) per second of `totals.elapsed`.
  double requests_per_s = 0;
  double probes_per_s = 0;
};

RunReport MakeRunReport(const RunDescription& run, const RunTotals& totals,
                        const LatencySummary& latency);

std::string FormatText(const RunReport& report);
std::string FormatJson(const RunReport& report);

}  // namespace candor::load

#endif  // CANDOR_BENCH_LOAD_RUN_REPORT_H_
