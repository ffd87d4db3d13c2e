// JSON output as plain text tables, for --format table: an object is one
// "key  value" line per leaf (nested keys joined by '.', array elements
// numbered), an array of objects is one row per element under a header of
// their leaf keys, an array of scalars is one value per line.
#ifndef CANDOR_CLIENTS_CLI_TABLE_OUTPUT_H_
#define CANDOR_CLIENTS_CLI_TABLE_OUTPUT_H_

#include <ostream>

#include "nlohmann/json.hpp"

namespace candor::cli {

void PrintTable(const nlohmann::json& value, std::ostream& out);

}  // namespace candor::cli

#endif  // CANDOR_CLIENTS_CLI_TABLE_OUTPUT_H_
