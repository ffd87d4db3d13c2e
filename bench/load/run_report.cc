#include "bench/load/run_report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace candor::load {

RunReport MakeRunReport(const RunDescription& run, const RunTotals& totals,
                        const LatencySummary& latency) {
  RunReport report{run, totals, latency};
  const double seconds = absl::ToDoubleSeconds(totals.elapsed);
  if (seconds > 0) {
    report.requests_per_s = latency.ok / seconds;
    report.probes_per_s = latency.ok * run.batch / seconds;
  }
  return report;
}

std::string FormatText(const RunReport& r) {
  const LoadPlan& plan = r.run.plan;
  std::string load =
      plan.mode == LoopMode::kClosed
          ? absl::StrCat("closed loop, ", plan.concurrency, " callers")
          : absl::StrFormat("open loop, %.1f req/s", plan.rate_rps);
  int64_t failed = 0;
  for (const auto& [code, count] : r.latency.errors) failed += count;
  std::string out = absl::StrFormat(
      "candor-bench %s gallery %s (%s): %s, %d probes x %d per request, "
      "%.2f s\n"
      "requests    %d ok, %d failed, %d skipped (client over max_in_flight)\n"
      "throughput  %.1f req/s, %.1f probes/s\n"
      "latency ms  p50 %.3f  p95 %.3f  p99 %.3f  max %.3f  mean %.3f\n",
      r.run.address, r.run.gallery, r.run.precision, load, r.run.batch,
      r.run.dim, absl::ToDoubleSeconds(r.totals.elapsed), r.latency.ok, failed,
      r.totals.skipped, r.requests_per_s, r.probes_per_s,
      r.latency.p50_us / 1e3, r.latency.p95_us / 1e3, r.latency.p99_us / 1e3,
      r.latency.max_us / 1e3, r.latency.mean_us / 1e3);
  for (const auto& [code, count] : r.latency.errors) {
    absl::StrAppend(&out, "errors      ", code, ": ", count, "\n");
  }
  if (r.totals.invalid > 0) {
    absl::StrAppend(&out, "invalid     ", r.totals.invalid,
                    " OK answers failed the check; first: ",
                    r.totals.first_invalid, "\n");
  }
  return out;
}

std::string FormatJson(const RunReport& r) {
  const LoadPlan& plan = r.run.plan;
  nlohmann::json j;
  j["address"] = r.run.address;
  j["gallery"] = r.run.gallery;
  j["precision"] = r.run.precision;
  j["mode"] = plan.mode == LoopMode::kClosed ? "closed" : "open";
  if (plan.mode == LoopMode::kClosed) {
    j["concurrency"] = plan.concurrency;
  } else {
    j["rate_rps"] = plan.rate_rps;
  }
  j["batch"] = r.run.batch;
  j["dim"] = r.run.dim;
  j["elapsed_s"] = absl::ToDoubleSeconds(r.totals.elapsed);
  j["sent"] = r.totals.sent;
  j["skipped"] = r.totals.skipped;
  j["invalid_responses"] = r.totals.invalid;
  if (r.totals.invalid > 0) j["first_invalid"] = r.totals.first_invalid;
  j["ok"] = r.latency.ok;
  j["errors"] = nlohmann::json::object();
  for (const auto& [code, count] : r.latency.errors) j["errors"][code] = count;
  j["requests_per_s"] = r.requests_per_s;
  j["probes_per_s"] = r.probes_per_s;
  j["latency_us"] = {{"p50", r.latency.p50_us},
                     {"p95", r.latency.p95_us},
                     {"p99", r.latency.p99_us},
                     {"max", r.latency.max_us},
                     {"mean", r.latency.mean_us}};
  return j.dump(2) + "\n";
}

}  // namespace candor::load
