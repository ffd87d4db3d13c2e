// Request validation: every check names the field and the value, returns
// the most specific code, and runs before anything changes. Both roles run
// these on the request alone (the router before it fans out); the checks
// against a server's galleries are in server/api/gallery_limits.h.
#ifndef CANDOR_SERVER_EDGE_VALIDATION_H_
#define CANDOR_SERVER_EDGE_VALIDATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "candor/v1/candor.pb.h"
#include "server/common/types.h"

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

// Limits against careless or hostile clients. Each refusal names the flag
// that sets the limit; all run before any work.

// The encoded size of a search's response, estimated before the search:
// per probe its ProbeResult (with the request's ref and group), per
// candidate the proto's encoded size of a typical Candidate (a 16-byte
// subject id, no group), min(top_k, gallery_size) candidates a probe, and
// room for the threshold report.
int64_t EstimateSearchResponseBytes(const v1::SearchRequest& request, int rows,
                                    uint64_t gallery_size);
// ResourceExhausted naming --max_message_bytes when that estimate is over.
absl::Status ValidateSearchResponseSize(const v1::SearchRequest& request,
                                        int rows, uint64_t gallery_size,
                                        int max_message_bytes);
// After the search, before the response is built: its exact candidate
// bytes (plus the estimate's per-probe and report room) against the same
// limit. The candidates already exist; the response would copy them again.
absl::Status ValidateSearchResults(
    const v1::SearchRequest& request,
    const std::vector<std::vector<Candidate>>& candidates,
    int max_message_bytes);

// A labeled calibration set: at most max_groups distinct group labels
// (InvalidArgument naming --max_calibration_groups), each at most 64 bytes.
absl::Status ValidateCalibrationLabels(const v1::LabeledSet& set,
                                       int max_groups);

}  // namespace candor::api

#endif  // CANDOR_SERVER_EDGE_VALIDATION_H_
