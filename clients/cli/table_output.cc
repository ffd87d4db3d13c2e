#include "clients/cli/table_output.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace candor::cli {
namespace {

using Leaves = std::vector<std::pair<std::string, std::string>>;

// A scalar as a person reads it: strings unquoted, null as "-".
std::string Cell(const nlohmann::json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

// The leaves of `value` under `prefix`, in document order.
void Flatten(const nlohmann::json& value, const std::string& prefix,
             Leaves* leaves) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      Flatten(child, prefix.empty() ? key : absl::StrCat(prefix, ".", key),
              leaves);
    }
  } else if (value.is_array() && std::any_of(value.begin(), value.end(),
                                             [](const nlohmann::json& v) {
                                               return v.is_structured();
                                             })) {
    for (size_t i = 0; i < value.size(); ++i) {
      Flatten(value[i], absl::StrCat(prefix, "[", i, "]"), leaves);
    }
  } else if (value.is_array()) {
    std::string joined;
    for (const nlohmann::json& v : value) {
      absl::StrAppend(&joined, joined.empty() ? "" : ",", Cell(v));
    }
    leaves->emplace_back(prefix, joined);
  } else {
    leaves->emplace_back(prefix, Cell(value));
  }
}

void PrintRows(const std::vector<std::vector<std::string>>& rows,
               std::ostream& out) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].size());
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line.append(widths[c] - row[c].size() + 2, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << "\n";
  }
}

}  // namespace

void PrintTable(const nlohmann::json& value, std::ostream& out) {
  if (value.is_array() && !value.empty() &&
      std::all_of(value.begin(), value.end(),
                  [](const nlohmann::json& v) { return v.is_object(); })) {
    std::vector<std::string> columns;
    std::vector<Leaves> records;
    for (const nlohmann::json& element : value) {
      Leaves leaves;
      Flatten(element, "", &leaves);
      for (const auto& [key, unused] : leaves) {
        if (std::find(columns.begin(), columns.end(), key) == columns.end()) {
          columns.push_back(key);
        }
      }
      records.push_back(std::move(leaves));
    }
    std::vector<std::vector<std::string>> rows = {columns};
    for (const Leaves& leaves : records) {
      std::vector<std::string> row(columns.size(), "");
      for (const auto& [key, cell] : leaves) {
        row[std::find(columns.begin(), columns.end(), key) - columns.begin()] =
            cell;
      }
      rows.push_back(std::move(row));
    }
    PrintRows(rows, out);
    return;
  }
  if (value.is_array()) {
    if (value.empty()) out << "(none)\n";
    for (const nlohmann::json& element : value) {
      if (element.is_structured()) {
        PrintTable(element, out);
      } else {
        out << Cell(element) << "\n";
      }
    }
    return;
  }
  if (!value.is_object()) {
    out << Cell(value) << "\n";
    return;
  }
  Leaves leaves;
  Flatten(value, "", &leaves);
  std::vector<std::vector<std::string>> rows;
  for (auto& [key, cell] : leaves) rows.push_back({key, cell});
  PrintRows(rows, out);
}

}  // namespace candor::cli
