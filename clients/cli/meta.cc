#include "clients/cli/meta.h"

#include <algorithm>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace candor {
namespace {

absl::Status CheckRowCount(const CsvTable& table, const std::string& name,
                           int64_t rows, const std::string& vectors_name) {
  if (static_cast<int64_t>(table.records.size()) != rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": has ", table.records.size(), " records but ", vectors_name,
        " has ", rows, " vectors; need one record per vector"));
  }
  return absl::OkStatus();
}

std::vector<std::string> ColumnValues(const CsvTable& table,
                                      std::optional<size_t> column) {
  std::vector<std::string> values;
  if (!column.has_value()) return values;
  values.reserve(table.records.size());
  for (const auto& record : table.records) values.push_back(record[*column]);
  return values;
}

// InvalidArgument naming the first header column not in `known`.
absl::Status CheckKnownColumns(const CsvTable& table, const std::string& name,
                               const std::vector<std::string>& known) {
  for (const std::string& column : table.header) {
    if (std::find(known.begin(), known.end(), column) == known.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": unknown column '", column,
                       "'; expected columns: ", absl::StrJoin(known, ", ")));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool EnrollMeta::HasNoGroup() const {
  return std::all_of(groups.begin(), groups.end(),
                     [](const std::string& g) { return g.empty(); });
}

absl::StatusOr<EnrollMeta> EnrollMetaFromCsv(const CsvTable& table,
                                             const std::string& name,
                                             int64_t rows,
                                             const std::string& vectors_name) {
  if (absl::Status s = CheckKnownColumns(table, name, {"subject_id", "group"});
      !s.ok()) {
    return s;
  }
  const std::optional<size_t> subject = table.Column("subject_id");
  if (!subject.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": no 'subject_id' column in the header"));
  }
  if (absl::Status s = CheckRowCount(table, name, rows, vectors_name);
      !s.ok()) {
    return s;
  }
  EnrollMeta meta;
  meta.subject_ids = ColumnValues(table, subject);
  meta.groups = ColumnValues(table, table.Column("group"));
  for (size_t i = 0; i < meta.subject_ids.size(); ++i) {
    if (meta.subject_ids[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": record ", i + 1, " has an empty subject_id"));
    }
  }
  return meta;
}

absl::StatusOr<ProbeMeta> ProbeMetaFromCsv(const CsvTable& table,
                                           const std::string& name,
                                           int64_t rows,
                                           const std::string& vectors_name,
                                           bool require_ref) {
  if (absl::Status s = CheckKnownColumns(table, name, {"group", "ref"});
      !s.ok()) {
    return s;
  }
  const std::optional<size_t> group = table.Column("group");
  const std::optional<size_t> ref = table.Column("ref");
  if (require_ref && !ref.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": no 'ref' column (the mate's subject id) in the header"));
  }
  if (!group.has_value() && !ref.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name,
                     ": neither a 'group' nor a 'ref' column in the "
                     "header"));
  }
  if (absl::Status s = CheckRowCount(table, name, rows, vectors_name);
      !s.ok()) {
    return s;
  }
  ProbeMeta meta;
  meta.groups = ColumnValues(table, group);
  meta.refs = ColumnValues(table, ref);
  return meta;
}

absl::StatusOr<EnrollMeta> ReadEnrollMeta(const std::string& path, int64_t rows,
                                          const std::string& vectors_name) {
  absl::StatusOr<CsvTable> table = ReadCsv(path);
  if (!table.ok()) return table.status();
  return EnrollMetaFromCsv(*table, path, rows, vectors_name);
}

absl::StatusOr<ProbeMeta> ReadProbeMeta(const std::string& path, int64_t rows,
                                        const std::string& vectors_name,
                                        bool require_ref) {
  absl::StatusOr<CsvTable> table = ReadCsv(path);
  if (!table.ok()) return table.status();
  return ProbeMetaFromCsv(*table, path, rows, vectors_name, require_ref);
}

}  // namespace candor
