#include "server/edge/validation.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"

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

// The subject id a typical candidate carries, for the estimate of a
// response's size before the search (a UUID is 36 bytes; shorter ids are
// rare enough that refusing a request they would have fitted is the
// lesser harm than building a response that cannot be sent).
constexpr size_t kTypicalSubjectIdBytes = 16;
// Room for the threshold report: a few hundred bytes per group, at most
// --max_calibration_groups groups.
constexpr int64_t kReportAllowanceBytes = int64_t{64} << 10;

size_t VarintSize(uint64_t value) {
  return google::protobuf::io::CodedOutputStream::VarintSize64(value);
}

// Bytes of a length-delimited field with a one-byte tag (0 when empty:
// proto3 leaves it out).
size_t StringFieldBytes(size_t length) {
  return length == 0 ? 0 : 1 + VarintSize(length) + length;
}

// A Candidate as it is encoded inside its ProbeResult (tag and length
// included).
size_t CandidateBytes(uint64_t entry_id, size_t subject_bytes,
                      size_t group_bytes, float score) {
  const size_t body = (entry_id == 0 ? 0 : 1 + VarintSize(entry_id)) +
                      StringFieldBytes(subject_bytes) +
                      StringFieldBytes(group_bytes) + (score == 0.0f ? 0 : 5);
  return 1 + VarintSize(body) + body;
}

// A ProbeResult without its candidates (tag, length, index, ref, group);
// the length prefix is taken at its largest.
int64_t ProbeResultOverhead(const v1::SearchRequest& request, int row) {
  size_t bytes = 1 + 5 + 1 + VarintSize(static_cast<uint64_t>(row));
  if (row < request.probe_info_size()) {
    bytes += StringFieldBytes(request.probe_info(row).ref().size()) +
             StringFieldBytes(request.probe_info(row).group().size());
  }
  return static_cast<int64_t>(bytes);
}

int64_t FixedResponseBytes(const v1::SearchRequest& request) {
  // gallery_version, backend, partial, and the report.
  return 64 + (request.omit_report() ? 0 : kReportAllowanceBytes);
}

absl::Status ResponseTooLarge(const v1::SearchRequest& request, int rows,
                              int64_t bytes, int max_message_bytes,
                              const std::string& what) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "response: ", rows, " probes x top_k ", request.top_k(), " ", what,
      " about ", bytes, " bytes, over the server's maximum message of ",
      max_message_bytes, " bytes (--max_message_bytes): search fewer probes "
      "per call or ask a smaller top_k"));
}

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

int64_t EstimateSearchResponseBytes(const v1::SearchRequest& request, int rows,
                                    uint64_t gallery_size) {
  const int64_t per_probe_candidates = static_cast<int64_t>(
      std::min<uint64_t>(request.top_k(), gallery_size));
  // Entry ids are counted at four varint bytes (ids up to 2^28).
  const int64_t candidate = static_cast<int64_t>(
      CandidateBytes(uint64_t{1} << 27, kTypicalSubjectIdBytes, 0, 0.5f));
  int64_t bytes = FixedResponseBytes(request);
  for (int row = 0; row < rows; ++row) {
    bytes += ProbeResultOverhead(request, row) +
             per_probe_candidates * candidate;
  }
  return bytes;
}

absl::Status ValidateSearchResponseSize(const v1::SearchRequest& request,
                                        int rows, uint64_t gallery_size,
                                        int max_message_bytes) {
  const int64_t bytes =
      EstimateSearchResponseBytes(request, rows, gallery_size);
  if (bytes <= max_message_bytes) return absl::OkStatus();
  return ResponseTooLarge(request, rows, bytes, max_message_bytes,
                          "would make a response of");
}

absl::Status ValidateSearchResults(
    const v1::SearchRequest& request,
    const std::vector<std::vector<Candidate>>& candidates,
    int max_message_bytes) {
  int64_t bytes = FixedResponseBytes(request);
  for (size_t row = 0; row < candidates.size(); ++row) {
    bytes += ProbeResultOverhead(request, static_cast<int>(row));
    for (const Candidate& c : candidates[row]) {
      bytes += static_cast<int64_t>(CandidateBytes(
          c.entry_id, c.subject_id.size(), c.group.size(), c.score));
    }
  }
  if (bytes <= max_message_bytes) return absl::OkStatus();
  return ResponseTooLarge(request, static_cast<int>(candidates.size()), bytes,
                          max_message_bytes, "found candidates making");
}

absl::Status ValidateCalibrationLabels(const v1::LabeledSet& set,
                                       int max_groups) {
  std::set<std::string> groups;
  for (const auto* labels : {&set.nonmated_groups(), &set.mated_groups()}) {
    const std::string field = labels == &set.nonmated_groups()
                                  ? "labeled.nonmated_groups"
                                  : "labeled.mated_groups";
    for (int i = 0; i < labels->size(); ++i) {
      const std::string& label = labels->Get(i);
      if (label.size() > kMaxGroupBytes) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, "[", i, "]: length ", label.size(),
                         " is over ", kMaxGroupBytes));
      }
      groups.insert(label);
      if (groups.size() > static_cast<size_t>(max_groups)) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ": more than ", max_groups, " distinct group labels, "
            "over the server's maximum (--max_calibration_groups)"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace candor::api
