// The CLI's CSV reader on untrusted text: a table whose records all have
// the header's field count, or a status naming the line.
#include <cstdlib>

#include "clients/cli/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto table = candor::ParseCsv(text, "fuzz.csv");
  if (!table.ok()) return 0;
  for (const auto& record : table->records) {
    if (record.size() != table->header.size()) std::abort();
  }
  return 0;
}
