// candor search: one JSON line (or table rows) per probe on stdout; the
// threshold report on stderr or in --report-file, so stdout stays pure.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/cli/calibration_table.h"
#include "clients/cli/command.h"
#include "clients/cli/file_io.h"
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
  // Python's client default.
  uint32_t top_k = 10;
  std::string purpose;
  bool no_report = false;
  std::string report_file;
  uint32_t nprobe = 0;
  int64_t batch_size = 0;
  std::string format = "json";
};

// One row per candidate: probe, rank, entry, subject, group, score; a probe
// without candidates gets one row of dashes so that it is seen.
void PrintProbeRows(const nlohmann::ordered_json& line, bool* header_done) {
  if (!*header_done) {
    std::cout << absl::StrFormat("%-6s %-4s %-12s %-20s %-10s %s\n", "probe",
                                 "rank", "entry_id", "subject_id", "group",
                                 "score");
    *header_done = true;
  }
  const int64_t probe = line["probe"];
  if (line["candidates"].empty()) {
    std::cout << absl::StrFormat("%-6d %-4s %-12s %-20s %-10s %s\n", probe, "-",
                                 "-", "-", "-", "-");
    return;
  }
  int rank = 1;
  for (const auto& c : line["candidates"]) {
    std::cout << absl::StrFormat(
        "%-6d %-4d %-12d %-20s %-10s %.4f\n", probe, rank++,
        c["entry_id"].get<uint64_t>(), c["subject_id"].get<std::string>(),
        c["group"].get<std::string>(), c["score"].get<double>());
  }
}

// The report as JSON to --report-file, else for a person on stderr (stdout
// carries only the probes' lines).
absl::Status WriteReport(const SearchCommandOptions& o,
                         const v1::SearchResponse* last) {
  const bool present = last != nullptr && last->has_report();
  if (!o.report_file.empty()) {
    nlohmann::json file;
    file["report"] =
        present ? ProtoToJson(last->report()) : nlohmann::json(nullptr);
    return WriteFileBytes(o.report_file, file.dump(2) + "\n");
  }
  if (present) {
    std::cerr << "threshold report:\n";
    PrintThresholdReport(last->report(), std::cerr);
  } else {
    std::cerr << "no threshold report\n";
  }
  return absl::OkStatus();
}

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
  bool header_done = false;
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
      const nlohmann::ordered_json line = ProbeResultJson(
          result, first, !meta.refs.empty(), !meta.groups.empty());
      if (o.format == "table") {
        PrintProbeRows(line, &header_done);
      } else {
        std::cout << line.dump() << "\n";
      }
    }
    last = *std::move(response);
  }
  std::cout << std::flush;
  if (o.no_report) return absl::OkStatus();
  // Every batch was searched at the same threshold against the same
  // calibration; the last batch's report stands for all.
  return WriteReport(o, last.has_value() ? &*last : nullptr);
}

}  // namespace

void AddSearchCommand(CLI::App& app, const GlobalOptions& global,
                      Action* action) {
  auto o = std::make_shared<SearchCommandOptions>();
  CLI::App* sub = app.add_subcommand(
      "search",
      "search probes; prints one JSON object per probe on stdout, and the "
      "threshold report on stderr or in --report-file unless --no-report");
  sub->add_option("name", o->name, "gallery name")->required();
  sub->add_option("--probes", o->probes,
                  ".npy file (float16/32/64), one probe per row; - reads "
                  "standard input")
      ->required();
  sub->add_option("--meta", o->meta,
                  "CSV with columns group and/or ref, one record per probe");
  CLI::Option* threshold = sub->add_option(
      "--threshold", o->threshold,
      "lowest score returned, in [-1, 1] (default: the gallery's policy "
      "threshold)");
  sub->add_option("--top-k", o->top_k, "most candidates per probe")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--purpose", o->purpose,
                  "why the search is made (audit log)");
  CLI::Option* no_report = sub->add_flag("--no-report", o->no_report,
                                         "leave out the threshold report");
  sub->add_option("--report-file", o->report_file,
                  "write the threshold report here as JSON ({\"report\": "
                  "...}) instead of to stderr")
      ->excludes(no_report);
  sub->add_option("--nprobe", o->nprobe, "IVF: lists visited per probe");
  sub->add_option("--batch-size", o->batch_size,
                  "probes per request (default: up to 1024 rows, 3 MiB)")
      ->check(CLI::PositiveNumber);
  AddFormatOption(sub, &o->format);
  sub->callback([o, threshold, &global, action] {
    o->has_threshold = threshold->count() > 0;
    *action = [o, &global] { return RunSearch(global, *o); };
  });
}

}  // namespace candor::cli
