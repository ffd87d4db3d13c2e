// candor enroll and candor remove.
#include <algorithm>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "clients/cli/command.h"
#include "clients/cli/meta.h"
#include "clients/cli/npy.h"
#include "clients/cli/progress.h"

namespace candor::cli {
namespace {

struct EnrollOptions {
  std::string name;
  std::string vectors;
  std::string meta;
  std::string request_id;
  int64_t batch_size = 0;
  std::string format = "json";
};

// Entry ids: a JSON array on one line, or one id per line.
void PrintIds(const std::vector<uint64_t>& ids, const std::string& format) {
  if (format == "table") {
    for (uint64_t id : ids) std::cout << id << "\n";
  } else {
    std::cout << nlohmann::json(ids).dump() << "\n";
  }
}

absl::Status RunEnroll(const GlobalOptions& global, const EnrollOptions& o) {
  absl::StatusOr<FloatMatrix> vectors = ReadNpy(o.vectors);
  if (!vectors.ok()) return vectors.status();
  absl::StatusOr<EnrollMeta> meta =
      ReadEnrollMeta(o.meta, vectors->rows, o.vectors);
  if (!meta.ok()) return meta.status();
  if (meta->HasNoGroup()) {
    std::cerr << "candor: warning: " << o.meta
              << " gives no entry a group: per-group telemetry (FPIR, FNIR "
                 "and disparity by group) will be empty for these entries\n";
  }
  const int64_t batch =
      o.batch_size > 0 ? o.batch_size : DefaultBatchRows(vectors->cols);
  const int64_t batches = (vectors->rows + batch - 1) / batch;
  absl::StatusOr<std::unique_ptr<Client>> connected = MakeClient(global);
  if (!connected.ok()) return connected.status();
  std::unique_ptr<Client> client = *std::move(connected);
  std::vector<uint64_t> ids;
  ids.reserve(vectors->rows);
  // A file sent in one request has nothing to report along the way.
  RowProgress progress("enroll", vectors->rows,
                       batches > 1 && StderrIsTerminal());
  for (int64_t b = 0; b < batches; ++b) {
    const int64_t first = b * batch;
    const int64_t rows = std::min(batch, vectors->rows - first);
    const auto slice = [&](const std::vector<std::string>& v) {
      return v.empty() ? absl::Span<const std::string>()
                       : absl::MakeConstSpan(v).subspan(first, rows);
    };
    // Each batch gets its own idempotency key, so rerunning the whole
    // command replays the batches already applied and sends the rest.
    std::string request_id = o.request_id;
    if (!request_id.empty() && batches > 1) {
      absl::StrAppend(&request_id, "/", b);
    }
    absl::StatusOr<std::vector<uint64_t>> entry_ids = client->Enroll(
        o.name,
        absl::MakeConstSpan(vectors->values)
            .subspan(first * vectors->cols, rows * vectors->cols),
        rows, vectors->cols, slice(meta->subject_ids), slice(meta->groups),
        request_id);
    if (!entry_ids.ok()) {
      progress.Finish();
      if (b == 0) return entry_ids.status();
      return absl::Status(
          entry_ids.status().code(),
          absl::StrCat(entry_ids.status().message(), " (batch ", b + 1, " of ",
                       batches, ", rows ", first, "..", first + rows - 1,
                       "; earlier batches were enrolled)"));
    }
    ids.insert(ids.end(), entry_ids->begin(), entry_ids->end());
    progress.Update(first + rows);
  }
  progress.Finish();
  PrintIds(ids, o.format);
  return absl::OkStatus();
}

struct RemoveOptions {
  std::string name;
  std::vector<uint64_t> entry_ids;
  std::string subject;
  bool by_subject = false;
  std::string format = "json";
};

absl::Status RunRemove(const GlobalOptions& global, const RemoveOptions& o) {
  absl::StatusOr<std::unique_ptr<Client>> connected = MakeClient(global);
  if (!connected.ok()) return connected.status();
  std::unique_ptr<Client> client = *std::move(connected);
  absl::StatusOr<std::vector<uint64_t>> removed =
      o.by_subject ? client->RemoveSubject(o.name, o.subject)
                   : client->RemoveEntries(o.name, o.entry_ids);
  if (!removed.ok()) return removed.status();
  PrintIds(*removed, o.format);
  return absl::OkStatus();
}

}  // namespace

void AddEnrollCommands(CLI::App& app, const GlobalOptions& global,
                       Action* action) {
  auto enroll = std::make_shared<EnrollOptions>();
  CLI::App* sub = app.add_subcommand(
      "enroll",
      "enroll vectors; prints the assigned entry ids as a JSON array");
  sub->add_option("name", enroll->name, "gallery name")->required();
  sub->add_option("--vectors", enroll->vectors,
                  ".npy file (float16/32/64), one row each; - reads "
                  "standard input")
      ->required();
  sub->add_option("--meta", enroll->meta,
                  "CSV with columns subject_id[,group], one record per row")
      ->required();
  sub->add_option("--request-id", enroll->request_id,
                  "idempotency key (batch b of several uses ID/b)");
  sub->add_option("--batch-size", enroll->batch_size,
                  "rows per request (default: up to 1024 rows, 3 MiB)")
      ->check(CLI::PositiveNumber);
  AddFormatOption(sub, &enroll->format);
  sub->callback([enroll, &global, action] {
    *action = [enroll, &global] { return RunEnroll(global, *enroll); };
  });

  auto remove = std::make_shared<RemoveOptions>();
  CLI::App* rm = app.add_subcommand(
      "remove", "remove entries by id or by subject; prints removed ids");
  rm->add_option("name", remove->name, "gallery name")->required();
  CLI::Option* ids = rm->add_option("--entry-ids", remove->entry_ids,
                                    "comma-separated entry ids")
                         ->delimiter(',');
  CLI::Option* subject =
      rm->add_option("--subject", remove->subject, "every entry of a subject");
  ids->excludes(subject);
  AddFormatOption(rm, &remove->format);
  rm->callback([remove, ids, subject, &global, action] {
    if (ids->count() == 0 && subject->count() == 0) {
      throw CLI::ValidationError("remove", "give --entry-ids or --subject");
    }
    remove->by_subject = subject->count() > 0;
    *action = [remove, &global] { return RunRemove(global, *remove); };
  });
}

}  // namespace candor::cli
