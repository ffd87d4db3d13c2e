#include "server/gallery/layout.h"

#include "absl/strings/strip.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace candor::gallery {
namespace {

constexpr int kSeqDigits = 20;

std::optional<uint64_t> ParseSeq(absl::string_view name,
                                 absl::string_view prefix,
                                 absl::string_view suffix) {
  if (!absl::ConsumePrefix(&name, prefix) ||
      !absl::ConsumeSuffix(&name, suffix) || name.size() != kSeqDigits) {
    return std::nullopt;
  }
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t seq;
  if (!absl::SimpleAtoi(name, &seq)) return std::nullopt;
  return seq;
}

}  // namespace

std::string SegmentFileName(uint64_t seq) {
  return absl::StrFormat("wal-%020u.log", seq);
}

std::string SnapshotFileName(uint64_t seq) {
  return absl::StrFormat("snapshot-%020u.snap", seq);
}

std::optional<uint64_t> ParseSegmentFileName(absl::string_view name) {
  return ParseSeq(name, "wal-", ".log");
}

std::optional<uint64_t> ParseSnapshotFileName(absl::string_view name) {
  return ParseSeq(name, "snapshot-", ".snap");
}

}  // namespace candor::gallery
