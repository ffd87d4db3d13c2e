// The CSV files that travel beside .npy vectors, one record per row:
//   enroll meta: columns subject_id (required, non-empty) and group
//                (optional column; values may be empty)
//   probe meta:  columns group and ref (either may be absent, not both;
//                values may be empty). For mated calibration probes, ref is
//                the mate's subject id and is required.
// Columns are found by header name, in any order. A column the file kind
// does not know (a misspelt `grp`, say) is an error naming it and the
// expected ones: ignoring it would drop the labels it was meant to carry.
// The record count must equal the vector count.
#ifndef CANDOR_CLIENTS_CLI_META_H_
#define CANDOR_CLIENTS_CLI_META_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/cli/csv.h"

namespace candor {

struct EnrollMeta {
  std::vector<std::string> subject_ids;
  // Empty when the file has no group column.
  std::vector<std::string> groups;

  // True when no record names a group (no column, or every value empty):
  // per-group telemetry on the server will then be empty.
  bool HasNoGroup() const;
};

struct ProbeMeta {
  // Each empty when the file has no such column.
  std::vector<std::string> groups;
  std::vector<std::string> refs;
};

// `name` names the CSV and `vectors_name` the matrix file in messages;
// `rows` is the number of vectors the records must match.
absl::StatusOr<EnrollMeta> EnrollMetaFromCsv(const CsvTable& table,
                                             const std::string& name,
                                             int64_t rows,
                                             const std::string& vectors_name);
absl::StatusOr<ProbeMeta> ProbeMetaFromCsv(const CsvTable& table,
                                           const std::string& name,
                                           int64_t rows,
                                           const std::string& vectors_name,
                                           bool require_ref);

absl::StatusOr<EnrollMeta> ReadEnrollMeta(const std::string& path, int64_t rows,
                                          const std::string& vectors_name);
absl::StatusOr<ProbeMeta> ReadProbeMeta(const std::string& path, int64_t rows,
                                        const std::string& vectors_name,
                                        bool require_ref = false);

}  // namespace candor

#endif  // CANDOR_CLIENTS_CLI_META_H_
