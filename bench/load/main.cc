// candor-bench: load generator for a candor server's Search RPC. Talks only
// to --address. Prints a progress line each second on stderr and the
// summary (text, or JSON with --json) on stdout.
//
//   candor-bench --address=127.0.0.1:50051 --gallery=g --concurrency=64
//   candor-bench --address=... --gallery=g --mode=open --rate=2000 --batch=1
//   candor-bench --address=... --gallery=g --enroll=100000 --dim=512 ...
//   candor-bench --address=... --gallery=b --precision=bf16 --enroll=1000 ...
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/load/gallery_setup.h"
#include "bench/load/latency_stats.h"
#include "bench/load/load_driver.h"
#include "bench/load/probe_source.h"
#include "bench/load/response_check.h"
#include "bench/load/run_report.h"
#include "clients/cpp/client.h"

ABSL_FLAG(std::string, address, "", "server address, host:port (required)");
ABSL_FLAG(std::string, gallery, "", "gallery to search (required)");
ABSL_FLAG(std::string, mode, "closed",
          "closed (--concurrency callers) or open (--rate requests/s)");
ABSL_FLAG(int, concurrency, 64, "closed loop: outstanding calls");
ABSL_FLAG(double, rate, 100.0, "open loop: calls started per second");
ABSL_FLAG(int, max_in_flight, 10000,
          "open loop: skip a scheduled call when this many are outstanding");
ABSL_FLAG(int64_t, batch, 1, "probes per request");
ABSL_FLAG(int64_t, dim, 0,
          "probe dimension; 0 = the gallery's (asked of the server)");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10),
          "stop sending after this long");
ABSL_FLAG(int64_t, requests, 0, "stop after this many calls (0 = no limit)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "deadline per call");
ABSL_FLAG(int, top_k, 10, "candidates per probe");
ABSL_FLAG(double, threshold, std::numeric_limits<double>::quiet_NaN(),
          "score threshold; unset = the gallery's policy threshold");
ABSL_FLAG(bool, omit_report, false, "ask the server to leave out the report");
ABSL_FLAG(std::string, probes_npy, "",
          ".npy of probes (rows reused cyclically); default random unit "
          "probes from --seed");
ABSL_FLAG(uint64_t, seed, 1, "seed of the random probes");
ABSL_FLAG(int64_t, distinct_requests, 64, "distinct requests sent in turn");
ABSL_FLAG(int64_t, enroll, 0,
          "before the run, create the gallery (if absent) at --dim and "
          "enroll this many random unit vectors (seed --seed + 1)");
ABSL_FLAG(std::string, precision, "",
          "fp32 or bf16: the gallery's vector precision. A gallery --enroll "
          "creates gets it; an existing gallery must hold it (the run fails "
          "otherwise). Unset: fp32 for a created gallery, any for an "
          "existing one. The report names the gallery's precision");
ABSL_FLAG(bool, json, false, "print the summary as JSON");
ABSL_FLAG(bool, check_responses, false,
          "verify every OK answer (one result per probe, top_k, threshold, "
          "order) and count the wrong ones; costs client CPU");
ABSL_FLAG(bool, expect_self_match, false,
          "with --check_responses: the probes are enrolled rows, so each "
          "probe's best candidate must score 1");

namespace candor::load {
namespace {

absl::Status Main() {
  RunDescription run;
  run.address = absl::GetFlag(FLAGS_address);
  run.gallery = absl::GetFlag(FLAGS_gallery);
  run.batch = absl::GetFlag(FLAGS_batch);
  run.dim = absl::GetFlag(FLAGS_dim);
  if (run.address.empty() || run.gallery.empty()) {
    return absl::InvalidArgumentError("--address and --gallery are required");
  }
  if (run.batch < 1) return absl::InvalidArgumentError("--batch must be >= 1");

  LoadPlan& plan = run.plan;
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "closed") {
    plan.mode = LoopMode::kClosed;
  } else if (mode == "open") {
    plan.mode = LoopMode::kOpen;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--mode must be closed or open, got ", mode));
  }
  plan.concurrency = absl::GetFlag(FLAGS_concurrency);
  plan.rate_rps = absl::GetFlag(FLAGS_rate);
  plan.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  plan.duration = absl::GetFlag(FLAGS_duration);
  plan.max_requests = absl::GetFlag(FLAGS_requests);
  plan.call_timeout = absl::GetFlag(FLAGS_timeout);
  if (plan.concurrency < 1 || !(plan.rate_rps > 0) || plan.max_in_flight < 1) {
    return absl::InvalidArgumentError(
        "--concurrency, --rate and --max_in_flight must be positive");
  }

  Client client(run.address, plan.call_timeout);
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  GallerySpec gallery_spec;
  gallery_spec.name = run.gallery;
  gallery_spec.dim = run.dim;
  gallery_spec.enroll = absl::GetFlag(FLAGS_enroll);
  gallery_spec.seed = seed + 1;
  absl::StatusOr<v1::Precision> precision =
      ParsePrecision(absl::GetFlag(FLAGS_precision));
  if (!precision.ok()) return precision.status();
  gallery_spec.precision = *precision;
  if (gallery_spec.enroll > 0 && run.dim < 1) {
    return absl::InvalidArgumentError("--enroll needs --dim");
  }
  absl::StatusOr<v1::Gallery> gallery = PrepareGallery(client, gallery_spec);
  if (!gallery.ok()) return gallery.status();
  if (run.dim == 0) run.dim = gallery->dimension();
  run.precision = PrecisionName(gallery->precision());

  SearchOptions options;
  options.top_k = static_cast<uint32_t>(absl::GetFlag(FLAGS_top_k));
  const double threshold = absl::GetFlag(FLAGS_threshold);
  if (!std::isnan(threshold)) options.threshold = static_cast<float>(threshold);
  options.omit_report = absl::GetFlag(FLAGS_omit_report);
  options.purpose = "candor-bench";
  ProbeSpec spec{run.gallery, run.dim,
                 run.batch,   absl::GetFlag(FLAGS_distinct_requests),
                 seed,        absl::GetFlag(FLAGS_probes_npy)};
  if (spec.distinct_requests < 1) {
    return absl::InvalidArgumentError("--distinct_requests must be >= 1");
  }
  absl::StatusOr<std::vector<v1::SearchRequest>> requests =
      BuildRequests(spec, options);
  if (!requests.ok()) return requests.status();

  LatencyRecorder recorder;
  ResponseCheck check;
  if (absl::GetFlag(FLAGS_check_responses)) {
    CheckOptions check_options;
    check_options.expect_self_match = absl::GetFlag(FLAGS_expect_self_match);
    check = [check_options](const v1::SearchRequest& request,
                            const v1::SearchResponse& response) {
      return CheckSearchResponse(request, response, check_options);
    };
  }
  LoadDriver driver(&client.stub(), &*requests, plan, &recorder,
                    std::move(check));
  int64_t last_completed = 0;
  const RunTotals totals = driver.Run([&](const Progress& p) {
    std::cerr << absl::StrFormat(
        "[%6.1fs] sent %d  done %d  failed %d  in flight %d  last 1s %d req\n",
        absl::ToDoubleSeconds(p.elapsed), p.sent, p.completed, p.failed,
        p.in_flight, p.completed - last_completed);
    last_completed = p.completed;
  });
  const RunReport report = MakeRunReport(run, totals, recorder.Summarize());
  std::cout << (absl::GetFlag(FLAGS_json) ? FormatJson(report)
                                          : FormatText(report));
  return absl::OkStatus();
}

}  // namespace
}  // namespace candor::load

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Load generator for a candor server's Search RPC.\n"
      "  candor-bench --address=HOST:PORT --gallery=NAME [--mode=closed "
      "--concurrency=64 | --mode=open --rate=1000] [--batch=1] "
      "[--duration=10s | --requests=N] [--json]");
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = candor::load::Main();
  if (!status.ok()) {
    std::cerr << "candor-bench: " << status << "\n";
    return 1;
  }
  return 0;
}
