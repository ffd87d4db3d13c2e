#include "server/api/gallery_limits.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"

namespace candor::api {

absl::Status ValidateSelfAudit(const std::vector<gallery::EntryMeta>& entries,
                               int top_k, const LimitOptions& limits) {
  std::set<std::string> groups;
  std::map<std::string, int> per_subject;
  for (const gallery::EntryMeta& e : entries) {
    groups.insert(e.group);
    ++per_subject[e.subject_id];
  }
  if (groups.size() > static_cast<size_t>(limits.max_calibration_groups)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "self_audit: the gallery holds ", groups.size(),
        " distinct group labels, over the server's maximum of ",
        limits.max_calibration_groups, " (--max_calibration_groups)"));
  }
  // The search depth SearchSelfAudit uses: past every entry of the probe's
  // own subject, and past top_k for the mate's rank; the probe's own entry
  // (always found) is the one candidate beyond --max_top_k.
  for (const auto& [subject, count] : per_subject) {
    const int depth = std::max(count + 1, top_k + 1);
    if (depth > limits.max_top_k + 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "self_audit: subject '", subject, "' has ", count,
          " entries; a self-audit would search ", depth,
          " candidates deep, over the server's maximum of ",
          limits.max_top_k, " besides the probe itself",
          " (--max_top_k): calibrate with a labeled set instead"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateGalleryCount(size_t galleries, int max_galleries) {
  if (galleries < static_cast<size_t>(max_galleries)) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "this server holds ", galleries, " galleries, its maximum "
      "(--max_galleries): delete one first"));
}

absl::Status ValidateGalleryCapacity(uint64_t size, int dimension, int rows,
                                     const LimitOptions& limits) {
  const uint64_t after = size + static_cast<uint64_t>(rows);
  if (after > static_cast<uint64_t>(limits.max_gallery_entries)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "vectors: ", rows, " more entries would make the gallery ", after,
        " entries, over the server's maximum of ", limits.max_gallery_entries,
        " (--max_gallery_entries)"));
  }
  const uint64_t bytes = after * static_cast<uint64_t>(dimension) * sizeof(float);
  if (bytes > static_cast<uint64_t>(limits.max_gallery_bytes)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "vectors: ", rows, " more entries would make the gallery's vectors ",
        bytes, " bytes, over the server's maximum of ",
        limits.max_gallery_bytes, " (--max_gallery_bytes)"));
  }
  return absl::OkStatus();
}

}  // namespace candor::api
