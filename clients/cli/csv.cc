#include "clients/cli/csv.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/file_io.h"

namespace candor {
namespace {

constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";

absl::Status CsvError(absl::string_view name, int line,
                      absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(name, ":", line, ": ", what));
}

}  // namespace

std::optional<size_t> CsvTable::Column(absl::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  return std::nullopt;
}

absl::StatusOr<CsvTable> ParseCsv(absl::string_view text,
                                  absl::string_view name) {
  if (absl::StartsWith(text, kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
  struct Record {
    int line;  // where the record starts, for messages
    std::vector<std::string> fields;
  };
  std::vector<Record> records;
  std::vector<std::string> fields;
  std::string field;
  // Whether the current record holds a quoted field: `""` alone is a
  // record with one empty field, not a blank line.
  bool record_quoted = false;
  int line = 1;
  int record_line = 1;
  const auto end_field = [&] {
    fields.push_back(std::move(field));
    field.clear();
  };
  const auto end_record = [&] {
    end_field();
    const bool blank =
        fields.size() == 1 && fields[0].empty() && !record_quoted;
    if (!blank) records.push_back({record_line, std::move(fields)});
    fields.clear();
    record_quoted = false;
  };
  const auto at_line_end = [&](size_t i) {
    return text[i] == '\n' ||
           (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n');
  };
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '"') {
      if (!field.empty()) {
        return CsvError(name, line, "quote inside an unquoted field");
      }
      const int quote_line = line;
      record_quoted = true;
      for (++i;; ++i) {
        if (i >= text.size()) {
          return CsvError(name, quote_line, "unterminated quoted field");
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field.push_back('"');
            ++i;
            continue;
          }
          break;
        }
        if (text[i] == '\n') ++line;
        field.push_back(text[i]);
      }
      ++i;  // the closing quote
      if (i < text.size() && text[i] != ',' && !at_line_end(i)) {
        return CsvError(name, line, "text after a closing quote");
      }
    } else if (text[i] == ',') {
      end_field();
      ++i;
    } else if (at_line_end(i)) {
      end_record();
      i += text[i] == '\r' ? 2 : 1;
      ++line;
      record_line = line;
    } else {
      field.push_back(text[i]);
      ++i;
    }
  }
  if (!fields.empty() || !field.empty() || record_quoted) end_record();

  if (records.empty()) return CsvError(name, 1, "empty file, need a header");
  CsvTable table;
  table.header = std::move(records[0].fields);
  for (size_t r = 1; r < records.size(); ++r) {
    if (records[r].fields.size() != table.header.size()) {
      return CsvError(
          name, records[r].line,
          absl::StrCat("record has ", records[r].fields.size(),
                       " fields, the header has ", table.header.size()));
    }
    table.records.push_back(std::move(records[r].fields));
  }
  return table;
}

absl::StatusOr<CsvTable> ReadCsv(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  return ParseCsv(*bytes, path);
}

std::string FormatCsvRecord(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line.push_back(',');
    const std::string& field = fields[i];
    // A lone empty field is quoted so the line does not read as blank.
    const bool lone_empty = fields.size() == 1 && field.empty();
    if (!lone_empty && field.find_first_of(",\"\r\n") == std::string::npos) {
      line += field;
      continue;
    }
    line.push_back('"');
    for (char c : field) {
      if (c == '"') line.push_back('"');
      line.push_back(c);
    }
    line.push_back('"');
  }
  line.push_back('\n');
  return line;
}

}  // namespace candor
