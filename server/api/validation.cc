#include "server/api/validation.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace candor::api {
namespace {

// Wire format is little-endian float32; so is every host candor runs on.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "candor's Matrix decoding assumes a little-endian host");

constexpr size_t kMaxSubjectIdBytes = 256;
constexpr size_t kMaxGroupBytes = 64;
constexpr size_t kMaxRequestIdBytes = 128;
constexpr size_t kMaxRefBytes = 256;
constexpr uint32_t kMaxDimension = 4096;

}  // namespace

absl::StatusOr<std::vector<float>> UnpackRows(const v1::Matrix& matrix,
                                              int dimension, int max_batch,
                                              const std::string& field) {
  if (matrix.rows() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": empty batch (rows = 0)"));
  }
  if (matrix.rows() > static_cast<uint32_t>(max_batch)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": batch of ", matrix.rows(),
                     " rows is over the server's maximum of ", max_batch));
  }
  if (matrix.cols() != static_cast<uint32_t>(dimension)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": dimension ", matrix.cols(),
                     " does not match the gallery's dimension ", dimension));
  }
  const size_t want_bytes =
      size_t{matrix.rows()} * matrix.cols() * sizeof(float);
  if (matrix.data().size() != want_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": data has ", matrix.data().size(), " bytes, expected ",
        want_bytes, " (", matrix.rows(), " x ", matrix.cols(), " float32)"));
  }
  std::vector<float> rows(size_t{matrix.rows()} * matrix.cols());
  std::memcpy(rows.data(), matrix.data().data(), want_bytes);
  return rows;
}

absl::Status ValidateThreshold(float threshold) {
  if (std::isnan(threshold) || threshold < -1.0f || threshold > 1.0f) {
    return absl::InvalidArgumentError(absl::StrCat(
        "threshold: ", threshold, " is outside [-1, 1] (cosine similarity)"));
  }
  return absl::OkStatus();
}

absl::Status ValidatePurpose(const std::string& purpose, int max_bytes,
                             bool required) {
  if (purpose.size() > static_cast<size_t>(max_bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("purpose: ", purpose.size(), " bytes is over the "
                     "server's maximum of ", max_bytes, " (--max_purpose_bytes)"));
  }
  if (required && purpose.empty()) {
    return absl::FailedPreconditionError(
        "purpose: this server requires every search to state its purpose "
        "(--require_purpose)");
  }
  return absl::OkStatus();
}

absl::Status ValidateTopK(uint32_t top_k, int max_top_k) {
  if (top_k == 0 || top_k > static_cast<uint32_t>(max_top_k)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "top_k: ", top_k, " is outside 1..", max_top_k));
  }
  return absl::OkStatus();
}

absl::Status ValidateDimension(uint32_t dimension) {
  if (dimension == 0 || dimension > kMaxDimension) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dimension: ", dimension, " is outside 1..", kMaxDimension));
  }
  return absl::OkStatus();
}

absl::Status ValidateEnrollLabels(const v1::EnrollRequest& request, int rows) {
  if (request.subject_ids_size() != rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("subject_ids: ", request.subject_ids_size(),
                     " ids for ", rows, " vectors (need one per row)"));
  }
  if (request.groups_size() != 0 && request.groups_size() != rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("groups: ", request.groups_size(), " labels for ", rows,
                     " vectors (need none or one per row)"));
  }
  for (int i = 0; i < rows; ++i) {
    const std::string& subject = request.subject_ids(i);
    if (subject.empty() || subject.size() > kMaxSubjectIdBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("subject_ids[", i, "]: length ", subject.size(),
                       " is outside 1..", kMaxSubjectIdBytes));
    }
  }
  for (int i = 0; i < request.groups_size(); ++i) {
    if (request.groups(i).size() > kMaxGroupBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("groups[", i, "]: length ", request.groups(i).size(),
                       " is over ", kMaxGroupBytes));
    }
  }
  if (request.request_id().size() > kMaxRequestIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id: length ", request.request_id().size(),
                     " is over ", kMaxRequestIdBytes));
  }
  return absl::OkStatus();
}

absl::Status ValidateProbeInfo(const v1::SearchRequest& request, int rows) {
  if (request.probe_info_size() != 0 && request.probe_info_size() != rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("probe_info: ", request.probe_info_size(),
                     " entries for ", rows, " probes (need none or one per row)"));
  }
  for (int i = 0; i < request.probe_info_size(); ++i) {
    const v1::ProbeInfo& info = request.probe_info(i);
    if (info.group().size() > kMaxGroupBytes || info.ref().size() > kMaxRefBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("probe_info[", i, "]: group or ref too long"));
    }
  }
  return absl::OkStatus();
}

}  // namespace candor::api
