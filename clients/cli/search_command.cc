// candor search: JSON lines, one per probe, then the threshold report.
#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "clients/cli/command.h"
#include "clients/cli/meta.h"
#include "clients/cli/npy.h"
#include "clients/cli/search_output.h"

namespace candor::cli {
namespace {

struct SearchCommandOptions {
  std::string name;
  std::string probes;
  std::string meta;
  float threshold = 0.0f;
  bool has_threshold = false;
  uint32_t top_k = 0;
  std::string purpose;
  bool no_report = false;
  uint32_t nprobe = 0;
  int64_t batch_size = 0;
};

absl::Status RunSearch(const GlobalOptions& global,
                       const SearchCommandOptions& o) {
  absl::StatusOr<FloatMatrix> probes = ReadNpy(o.probes);
  if (!probes.ok()) return probes.status();
  ProbeMeta meta;
  if (!o.meta.empty()) {
    absl::StatusOr<ProbeMeta> read =
        ReadProbeMeta(o.meta, probes->rows, o.probes);
    if (!read.ok()) return read.status();
    meta = *std::move(read);
  }
  const int64_t batch =
      o.batch_size > 0 ? o.batch_size : DefaultBatchRows(probes->cols);
  absl::StatusOr<std::unique_ptr<Client>> connected = MakeClient(global);
  if (!connected.ok()) return connected.status();
  std::unique_ptr<Client> client = *std::move(connected);
  std::optional<v1::SearchResponse> last;
  for (int64_t first = 0; first < probes->rows; first += batch) {
    const int64_t rows = std::min(batch, probes->rows - first);
    const auto slice = [&](const std::vector<std::string>& v) {
      return v.empty() ? std::vector<std::string>()
                       : std::vector<std::string>(v.begin() + first,
                                                  v.begin() + first + rows);
    };
    SearchOptions options;
    if (o.has_threshold) options.threshold = o.threshold;
    options.top_k = o.top_k;
    options.groups = slice(meta.groups);
    options.refs = slice(meta.refs);
    options.purpose = o.purpose;
    options.omit_report = o.no_report;
    options.nprobe = o.nprobe;
    absl::StatusOr<v1::SearchResponse> response =
        client->Search(o.name,
                       absl::MakeConstSpan(probes->values)
                           .subspan(first * probes->cols, rows * probes->cols),
                       rows, probes->cols, options);
    if (!response.ok()) return response.status();
    for (const v1::ProbeResult& result : response->results()) {
      std::cout << ProbeResultJson(result, first, !meta.refs.empty(),
                                   !meta.groups.empty())
                       .dump()
                << "\n";
    }
    last = *std::move(response);
  }
  if (!o.no_report) {
    // Every batch was searched at the same threshold against the same
    // calibration; the last batch's report stands for all.
    nlohmann::json line;
    line["report"] = last.has_value() && last->has_report()
                         ? ProtoToJson(last->report())
                         : nlohmann::json(nullptr);
    std::cout << line.dump() << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddSearchCommand(CLI::App& app, const GlobalOptions& global,
                      Action* action) {
  auto o = std::make_shared<SearchCommandOptions>();
  CLI::App* sub = app.add_subcommand(
      "search",
      "search probes; prints one JSON object per probe, then {\"report\": "
      "...} unless --no-report");
  sub->add_option("name", o->name, "gallery name")->required();
  sub->add_option("--probes", o->probes, ".npy file, one probe per row")
      ->required();
  sub->add_option("--meta", o->meta,
                  "CSV with columns group and/or ref, one record per probe");
  CLI::Option* threshold = sub->add_option(
      "--threshold", o->threshold,
      "lowest score returned, in [-1, 1] (default: the gallery's policy "
      "threshold)");
  sub->add_option("--top-k", o->top_k, "most candidates per probe")
      ->required()
      ->check(CLI::PositiveNumber);
  sub->add_option("--purpose", o->purpose,
                  "why the search is made (audit log)");
  sub->add_flag("--no-report", o->no_report, "leave out the threshold report");
  sub->add_option("--nprobe", o->nprobe, "IVF: lists visited per probe");
  sub->add_option("--batch-size", o->batch_size,
                  "probes per request (default: up to 1024 rows, 3 MiB)")
      ->check(CLI::PositiveNumber);
  sub->callback([o, threshold, &global, action] {
    o->has_threshold = threshold->count() > 0;
    *action = [o, &global] { return RunSearch(global, *o); };
  });
}

}  // namespace candor::cli
