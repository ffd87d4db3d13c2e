// A small RFC 4180 CSV reader: comma-separated fields, optionally enclosed
// in double quotes; inside quotes, "" is a quote and commas and line breaks
// are data. Lines end in CRLF or LF. The first record is the header.
#ifndef CANDOR_CLIENTS_CLI_CSV_H_
#define CANDOR_CLIENTS_CLI_CSV_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace candor {

struct CsvTable {
  std::vector<std::string> header;
  // Every record has header.size() fields.
  std::vector<std::vector<std::string>> records;

  // Index of the column named `name`, if there is one.
  std::optional<size_t> Column(absl::string_view name) const;
};

// Parses CSV text; `name` (usually the file) is used in error messages,
// which also give the line. A leading UTF-8 byte-order mark is skipped and
// blank lines are ignored. InvalidArgument for an empty input, an
// unterminated quote, a quote inside an unquoted field, text after a
// closing quote, or a record whose field count differs from the header's.
absl::StatusOr<CsvTable> ParseCsv(absl::string_view text,
                                  absl::string_view name);
absl::StatusOr<CsvTable> ReadCsv(const std::string& path);

// One record as a CSV line, quoting the fields that hold a comma, a quote
// or a line break (RFC 4180). Lines end in LF, which Unix tools and every
// CSV reader expect; RFC 4180's CRLF is accepted on input.
std::string FormatCsvRecord(const std::vector<std::string>& fields);

}  // namespace candor

#endif  // CANDOR_CLIENTS_CLI_CSV_H_
