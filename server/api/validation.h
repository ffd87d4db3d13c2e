// Request validation: every check names the field and the value, returns
// the most specific code, and runs before anything changes.
#ifndef CANDOR_SERVER_API_VALIDATION_H_
#define CANDOR_SERVER_API_VALIDATION_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "candor/v1/candor.pb.h"
#include "server/api/options.h"

namespace candor::api {

// Checks shape (rows in 1..max_batch, cols == dimension, data size) and
// copies the matrix out as host float32 rows. `field` names it in errors.
absl::StatusOr<std::vector<float>> UnpackRows(const v1::Matrix& matrix,
                                              int dimension, int max_batch,
                                              const std::string& field);

absl::Status ValidateThreshold(float threshold);
absl::Status ValidateTopK(uint32_t top_k, int max_top_k);
// InvalidArgument for a purpose over max_bytes; FailedPrecondition for none
// when `required` (--require_purpose).
absl::Status ValidatePurpose(const std::string& purpose, int max_bytes,
                             bool required);
absl::Status ValidateDimension(uint32_t dimension);

// Enroll's per-row strings: subject ids 1..256 bytes, groups empty or one
// per row of at most 64 bytes, request id at most 128 bytes.
absl::Status ValidateEnrollLabels(const v1::EnrollRequest& request, int rows);
// probe_info empty or one per row; groups at most 64 bytes, refs 256.
absl::Status ValidateProbeInfo(const v1::SearchRequest& request, int rows);

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_VALIDATION_H_
