// candor demo: synthesize, enroll, calibrate and search against a running
// server, then say what the threshold did to each group.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "clients/cli/calibration_table.h"
#include "clients/cli/command.h"
#include "clients/cli/synth.h"

namespace candor::cli {
namespace {

struct DemoOptions {
  std::string dir;
  SynthOptions synth;
  float threshold = 0.5f;
  uint32_t top_k = 10;
  bool keep = false;
};

// Per group: searches and how many of them hit (mate found, or any
// candidate for non-mated probes).
struct Tally {
  std::map<std::string, std::pair<int64_t, int64_t>> by_group;
  void Add(const std::string& group, bool hit) {
    auto& [hits, searches] = by_group[group];
    hits += hit ? 1 : 0;
    searches += 1;
  }
};

// Searches a synthetic probe set in batches, tallying per group; returns
// the last report.
absl::StatusOr<v1::SearchResponse> SearchSet(Client& client,
                                             const std::string& gallery,
                                             const SynthSet& set, bool mated,
                                             const DemoOptions& o,
                                             Tally* tally) {
  const int64_t dim = set.vectors.cols;
  const int64_t batch = DefaultBatchRows(dim);
  v1::SearchResponse last;
  for (int64_t first = 0; first < set.vectors.rows; first += batch) {
    const int64_t rows = std::min(batch, set.vectors.rows - first);
    SearchOptions options;
    options.threshold = o.threshold;
    options.top_k = o.top_k;
    options.groups.assign(set.groups.begin() + first,
                          set.groups.begin() + first + rows);
    options.purpose = "candor demo";
    absl::StatusOr<v1::SearchResponse> response =
        client.Search(gallery,
                      absl::MakeConstSpan(set.vectors.values)
                          .subspan(first * dim, rows * dim),
                      rows, dim, options);
    if (!response.ok()) return response.status();
    for (const v1::ProbeResult& result : response->results()) {
      const int64_t row = first + result.probe_index();
      bool hit = !result.candidates().empty();
      if (mated) {
        hit =
            std::any_of(result.candidates().begin(), result.candidates().end(),
                        [&](const v1::Candidate& c) {
                          return c.subject_id() == set.subject_ids[row];
                        });
      }
      tally->Add(set.groups[row], hit);
    }
    last = *std::move(response);
  }
  return last;
}

std::string Fraction(std::pair<int64_t, int64_t> counts) {
  const auto [hits, searches] = counts;
  return absl::StrFormat("%d/%d (%.1f%%)", hits, searches,
                         searches == 0 ? 0.0 : 100.0 * hits / searches);
}

void PrintReport(const v1::ThresholdReport& report) {
  std::cout << "\nserver's threshold report (from its calibration):\n";
  if (!report.calibration().present()) {
    std::cout << "  no calibration stored\n";
    return;
  }
  std::cout << absl::StrFormat(
      "  threshold %.3f (%s), calibration %s%s\n", report.threshold(),
      v1::ThresholdReport::Source_Name(report.source()),
      report.calibration().source(),
      report.calibration().stale() ? ", STALE" : "");
  std::cout << "  overall FPIR " << FormatRate(report.fpir()) << "  FNIR "
            << FormatRate(report.fnir()) << "\n";
  for (const v1::GroupRates& g : report.groups()) {
    std::cout << absl::StrFormat("  group %-6s FPIR %s  FNIR %s\n", g.group(),
                                 FormatRate(g.fpir()), FormatRate(g.fnir()));
  }
  const v1::Disparity& d = report.fpir_disparity();
  std::cout << "  FPIR disparity (max/min): "
            << (d.defined() ? absl::StrFormat("%.2f (%s vs %s)", d.ratio(),
                                              d.max_group(), d.min_group())
                            : std::string("undefined"))
            << "\n  GARBE: "
            << (report.garbe_defined() ? absl::StrFormat("%.4f", report.garbe())
                                       : std::string("undefined"))
            << "\n  policy verdict: "
            << v1::PolicyVerdict::Outcome_Name(report.verdict().outcome())
            << "\n";
  for (const std::string& violation : report.verdict().violations()) {
    std::cout << "    " << violation << "\n";
  }
}

absl::Status RunDemo(const GlobalOptions& global, const DemoOptions& o) {
  absl::StatusOr<SynthData> data = Synthesize(o.synth);
  if (!data.ok()) return UsageError(data.status().message());
  if (!o.dir.empty()) {
    if (absl::Status s = WriteSynth(*data, o.dir); !s.ok()) return s;
  }
  absl::StatusOr<std::unique_ptr<Client>> connected = MakeClient(global);
  if (!connected.ok()) return connected.status();
  std::unique_ptr<Client> client = *std::move(connected);
  const std::string gallery =
      absl::StrCat("demo-", absl::ToUnixMicros(absl::Now()), "-", ::getpid());
  const int64_t dim = o.synth.dim;
  absl::StatusOr<v1::Gallery> created =
      client->CreateGallery(gallery, static_cast<uint32_t>(dim));
  if (!created.ok()) return created.status();
  std::cout << absl::StrFormat(
      "candor demo against %s: gallery %s, %d subjects x %d, dim %d, "
      "groups %s\n",
      global.server, gallery, o.synth.subjects, o.synth.per_subject, dim,
      absl::StrJoin(o.synth.groups, ","));

  const SynthSet& g = data->gallery;
  const int64_t batch = DefaultBatchRows(dim);
  for (int64_t first = 0; first < g.vectors.rows; first += batch) {
    const int64_t rows = std::min(batch, g.vectors.rows - first);
    absl::StatusOr<std::vector<uint64_t>> ids = client->Enroll(
        gallery,
        absl::MakeConstSpan(g.vectors.values).subspan(first * dim, rows * dim),
        rows, dim, absl::MakeConstSpan(g.subject_ids).subspan(first, rows),
        absl::MakeConstSpan(g.groups).subspan(first, rows));
    if (!ids.ok()) return ids.status();
  }
  std::cout << "enrolled " << g.vectors.rows << " entries\n";

  // A self-audit gives the server a calibration, so every answer below
  // carries per-group FPIR/FNIR for the threshold used.
  absl::StatusOr<v1::CalibrationReport> calibration =
      client->CalibrateSelfAudit(
          gallery,
          static_cast<uint32_t>(std::min<int64_t>(g.vectors.rows, 2000)),
          o.synth.seed);
  if (calibration.ok()) {
    std::cout << "calibrated by self-audit\n";
  } else if (absl::IsUnimplemented(calibration.status())) {
    // A server without telemetry still answers searches; say so instead of
    // failing the whole demo.
    std::cout << "server cannot calibrate: " << calibration.status().message()
              << "\n";
  } else {
    return calibration.status();
  }

  Tally mated, nonmated;
  absl::StatusOr<v1::SearchResponse> mated_response =
      SearchSet(*client, gallery, data->mated, true, o, &mated);
  if (!mated_response.ok()) return mated_response.status();
  absl::StatusOr<v1::SearchResponse> nonmated_response =
      SearchSet(*client, gallery, data->nonmated, false, o, &nonmated);
  if (!nonmated_response.ok()) return nonmated_response.status();

  std::cout << absl::StrFormat(
      "\nsearched %d mated and %d non-mated probes at threshold %.3f, "
      "top_k %d\n",
      data->mated.vectors.rows, data->nonmated.vectors.rows, o.threshold,
      o.top_k);
  std::cout << absl::StrFormat("  %-8s  %-22s  %s\n", "group",
                               "mated: mate found", "non-mated: false match");
  std::pair<int64_t, int64_t> mated_all{0, 0}, nonmated_all{0, 0};
  for (const std::string& group : o.synth.groups) {
    const auto m = mated.by_group[group];
    const auto n = nonmated.by_group[group];
    mated_all.first += m.first;
    mated_all.second += m.second;
    nonmated_all.first += n.first;
    nonmated_all.second += n.second;
    std::cout << absl::StrFormat("  %-8s  %-22s  %s\n", group, Fraction(m),
                                 Fraction(n));
  }
  std::cout << absl::StrFormat("  %-8s  %-22s  %s\n", "all",
                               Fraction(mated_all), Fraction(nonmated_all));
  if (nonmated_response->has_report()) {
    PrintReport(nonmated_response->report());
  }
  if (o.keep) {
    std::cout << "\nkept gallery " << gallery << "\n";
    return absl::OkStatus();
  }
  return client->DeleteGallery(gallery);
}

}  // namespace

void AddDemoCommand(CLI::App& app, const GlobalOptions& global,
                    Action* action) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* sub = app.add_subcommand(
      "demo",
      "against a running server: synthesize, enroll, calibrate, search and "
      "summarize per group (starts no server)");
  sub->add_option("--dir", o->dir, "also write the synthetic files here");
  AddSynthOptions(sub, &o->synth);
  sub->add_option("--threshold", o->threshold, "search threshold")
      ->capture_default_str();
  sub->add_option("--top-k", o->top_k, "candidates per probe")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_flag("--keep", o->keep, "keep the demo gallery (default: delete)");
  sub->callback([o, &global, action] {
    *action = [o, &global] { return RunDemo(global, *o); };
  });
}

}  // namespace candor::cli
