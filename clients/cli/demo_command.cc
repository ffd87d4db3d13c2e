// candor demo: synthesize, enroll, calibrate and search against a running
// server, say what the threshold did to each group, then set a policy on
// per-group FPIR and show the careless threshold refused and the policy's
// threshold used instead. The demo gallery is deleted even when a step
// fails (unless --keep).
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

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
  // The threshold someone picks without looking at what it costs.
  float threshold = 0.5f;
  uint32_t top_k = 10;
  // The policy the demo ends with: no group's FPIR above this.
  double max_fpir = 0.001;
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

// Searches a synthetic probe set in batches at `threshold` (unset: the
// gallery's policy threshold), tallying per group; returns the last
// response, whose report stands for every batch.
absl::StatusOr<v1::SearchResponse> SearchSet(
    Client& client, const std::string& gallery, const SynthSet& set, bool mated,
    std::optional<float> threshold, const DemoOptions& o, Tally* tally) {
  const int64_t dim = set.vectors.cols;
  const int64_t batch = DefaultBatchRows(dim);
  v1::SearchResponse last;
  for (int64_t first = 0; first < set.vectors.rows; first += batch) {
    const int64_t rows = std::min(batch, set.vectors.rows - first);
    SearchOptions options;
    options.threshold = threshold;
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

// Both probe sets at `threshold`, then per group what it did: mates found
// and false matches; then the server's report for the non-mated set.
absl::StatusOr<v1::SearchResponse> SearchAndTell(Client& client,
                                                 const std::string& gallery,
                                                 const SynthData& data,
                                                 std::optional<float> threshold,
                                                 const DemoOptions& o) {
  Tally mated, nonmated;
  absl::StatusOr<v1::SearchResponse> mated_response =
      SearchSet(client, gallery, data.mated, true, threshold, o, &mated);
  if (!mated_response.ok()) return mated_response.status();
  absl::StatusOr<v1::SearchResponse> nonmated_response =
      SearchSet(client, gallery, data.nonmated, false, threshold, o, &nonmated);
  if (!nonmated_response.ok()) return nonmated_response.status();
  const float used = nonmated_response->has_report()
                         ? nonmated_response->report().threshold()
                         : threshold.value_or(0.0f);
  std::cout << absl::StrFormat(
      "\nsearched %d mated and %d non-mated probes at threshold %.3f%s, "
      "top_k %d\n",
      data.mated.vectors.rows, data.nonmated.vectors.rows, used,
      threshold.has_value() ? "" : " (the policy's)", o.top_k);
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
    std::cout << "\nserver's threshold report (from its calibration):\n";
    PrintThresholdReport(nonmated_response->report(), std::cout);
  }
  return nonmated_response;
}

// The ending of the story: a policy caps every group's FPIR, the careless
// threshold is refused with the numbers, the policy's threshold is used.
absl::Status PolicyEnding(Client& client, const std::string& gallery,
                          const SynthData& data, const DemoOptions& o) {
  v1::Policy policy;
  policy.set_max_fpir(o.max_fpir);
  policy.set_action(v1::Policy::REJECT);
  absl::StatusOr<v1::Gallery> set = client.SetPolicy(gallery, policy);
  if (!set.ok()) return set.status();
  std::cout << absl::StrFormat(
      "\npolicy set on %s: no group's false positive identification rate "
      "above %g; a search that breaks it is rejected\n",
      gallery, o.max_fpir);

  absl::StatusOr<v1::SearchResponse> careless =
      SearchAndTell(client, gallery, data, o.threshold, o);
  if (careless.ok()) {
    std::cout << absl::StrFormat(
        "threshold %.3f keeps every group within the policy: the server "
        "answered\n",
        o.threshold);
  } else if (ErrorReason(careless.status()) == kPolicyRejectReason) {
    std::cout << absl::StrFormat(
        "\nthe same search at threshold %.3f is refused by the server:\n  "
        "%s\n",
        o.threshold, careless.status().message());
  } else {
    return careless.status();
  }

  std::cout << "\nwithout a threshold, the server uses the lowest one that "
               "holds every group under the policy:";
  absl::StatusOr<v1::SearchResponse> governed =
      SearchAndTell(client, gallery, data, std::nullopt, o);
  if (!governed.ok()) return governed.status();
  return absl::OkStatus();
}

// Everything after the gallery exists; the caller deletes it whatever
// this returns.
absl::Status DemoSteps(Client& client, const std::string& gallery,
                       const SynthData& data, const DemoOptions& o) {
  const int64_t dim = o.synth.dim;
  const SynthSet& g = data.gallery;
  const int64_t batch = DefaultBatchRows(dim);
  for (int64_t first = 0; first < g.vectors.rows; first += batch) {
    const int64_t rows = std::min(batch, g.vectors.rows - first);
    absl::StatusOr<std::vector<uint64_t>> ids = client.Enroll(
        gallery,
        absl::MakeConstSpan(g.vectors.values).subspan(first * dim, rows * dim),
        rows, dim, absl::MakeConstSpan(g.subject_ids).subspan(first, rows),
        absl::MakeConstSpan(g.groups).subspan(first, rows));
    if (!ids.ok()) return ids.status();
  }
  std::cout << "enrolled " << g.vectors.rows << " entries\n";

  // A self-audit gives the server a calibration, so every answer below
  // carries per-group FPIR/FNIR for the threshold used.
  absl::StatusOr<v1::CalibrationReport> calibration = client.CalibrateSelfAudit(
      gallery, static_cast<uint32_t>(std::min<int64_t>(g.vectors.rows, 2000)),
      o.synth.seed);
  const bool calibrated = calibration.ok();
  if (calibrated) {
    std::cout << "calibrated by self-audit\n";
  } else if (absl::IsUnimplemented(calibration.status())) {
    // A server without telemetry still answers searches; say so instead of
    // failing the whole demo.
    std::cout << "server cannot calibrate: " << calibration.status().message()
              << "\n";
  } else {
    return calibration.status();
  }

  absl::StatusOr<v1::SearchResponse> first =
      SearchAndTell(client, gallery, data, o.threshold, o);
  if (!first.ok()) return first.status();
  if (!calibrated) {
    std::cout << "\nno calibration, so no policy on false match rates can "
                 "be set\n";
    return absl::OkStatus();
  }
  return PolicyEnding(client, gallery, data, o);
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

  const absl::Status steps = DemoSteps(*client, gallery, *data, o);
  if (o.keep) {
    std::cout << "\nkept gallery " << gallery << "\n";
    return steps;
  }
  const absl::Status deleted = client->DeleteGallery(gallery);
  if (steps.ok()) return deleted;
  // The step's error is the one to report; the gallery should not outlive
  // it all the same.
  if (deleted.ok()) {
    std::cerr << "candor: deleted demo gallery " << gallery
              << " after the failure below\n";
  } else {
    std::cerr << "candor: could not delete demo gallery " << gallery << ": "
              << deleted.message() << "\n";
  }
  return steps;
}

}  // namespace

void AddDemoCommand(CLI::App& app, const GlobalOptions& global,
                    Action* action) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* sub = app.add_subcommand(
      "demo",
      "against a running server: synthesize, enroll, calibrate, search, "
      "summarize per group, then set a policy on per-group FPIR and search "
      "under it (starts no server)");
  sub->add_option("--dir", o->dir, "also write the synthetic files here");
  AddSynthOptions(sub, &o->synth);
  sub->add_option("--threshold", o->threshold,
                  "the threshold picked without looking at its cost")
      ->capture_default_str();
  sub->add_option("--max-fpir", o->max_fpir,
                  "the policy the demo ends with: no group's FPIR above this")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--top-k", o->top_k, "candidates per probe")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_flag("--keep", o->keep, "keep the demo gallery (default: delete)");
  sub->callback([o, &global, action] {
    *action = [o, &global] { return RunDemo(global, *o); };
  });
}

}  // namespace candor::cli
