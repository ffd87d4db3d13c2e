// VerifyAuditLog: walks every audit file and checks the hash chain.
#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "server/telemetry/audit_chain.h"
#include "server/telemetry/audit_log.h"
#include "server/telemetry/file_io.h"

namespace candor::telemetry {
namespace {

// Where the newest file header says the retained chain begins.
struct Anchor {
  std::string file;
  uint64_t seq = 0;
  std::string prev_hash;
};

// The first record of each file, as found.
struct FileStart {
  uint64_t seq = 0;
  std::string prev_hash;
};

absl::Status Broken(const std::string& file, size_t line,
                    std::optional<uint64_t> seq, absl::string_view why) {
  return absl::DataLossError(absl::StrCat(
      "audit chain broken at ", file, " line ", line,
      seq ? absl::StrCat(" (seq ", *seq, ")") : std::string(), ": ", why));
}

}  // namespace

absl::Status VerifyAuditLog(const std::string& dir, uint64_t* records) {
  absl::StatusOr<std::vector<std::string>> files = ListAuditFiles(dir);
  if (!files.ok()) return files.status();
  if (files->empty()) {
    return absl::NotFoundError(absl::StrCat("no audit files in ", dir));
  }
  uint64_t checked = 0;
  std::optional<uint64_t> expected_seq;
  std::string last_hash;
  std::optional<Anchor> anchor;
  std::vector<FileStart> starts;
  for (const std::string& file : *files) {
    absl::StatusOr<std::string> content =
        ReadFileToString((std::filesystem::path(dir) / file).string());
    if (!content.ok()) return content.status();
    if (content->empty()) return Broken(file, 1, expected_seq, "the file is empty");
    std::string_view rest = *content;
    for (size_t line_no = 1; !rest.empty(); ++line_no) {
      const size_t eol = rest.find('\n');
      if (eol == std::string_view::npos) {
        return Broken(file, line_no, expected_seq,
                      "partial record at the end (truncated)");
      }
      const std::string_view line = rest.substr(0, eol);
      rest.remove_prefix(eol + 1);
      absl::StatusOr<OpenedRecord> record = OpenRecord(line);
      if (!record.ok()) {
        return Broken(file, line_no, expected_seq, record.status().message());
      }
      const AuditJson& body = record->body;
      const uint64_t seq = body["seq"].get<uint64_t>();
      const std::string prev_hash = body["prev_hash"].get<std::string>();
      if (expected_seq && seq != *expected_seq) {
        return Broken(file, line_no, seq,
                      absl::StrCat("expected seq ", *expected_seq,
                                   " (a record is missing, reordered or inserted)"));
      }
      if (expected_seq && prev_hash != last_hash) {
        return Broken(file, line_no, seq,
                      "prev_hash does not match the previous record");
      }
      const bool is_header = body.value("operation", "") == kFileHeaderOperation;
      if ((line_no == 1) != is_header) {
        return Broken(file, line_no, seq,
                      line_no == 1 ? "the file does not begin with its header"
                                   : "a file header inside a file");
      }
      if (is_header) {
        if (body.value("file", "") != file) {
          return Broken(file, line_no, seq,
                        absl::StrCat("header names file ", body.value("file", "")));
        }
        anchor = Anchor{body.value("oldest_file", ""),
                        body.value("oldest_seq", uint64_t{0}),
                        body.value("oldest_prev_hash", "")};
        starts.push_back({seq, prev_hash});
      }
      expected_seq = seq + 1;
      last_hash = record->hash;
      ++checked;
    }
  }
  // Retention only ever removes whole files older than the anchor's file;
  // the anchor's file itself must remain, beginning as it did.
  bool anchor_found = false;
  for (size_t i = 0; i < files->size(); ++i) {
    if ((*files)[i] != anchor->file) continue;
    anchor_found = starts[i].seq == anchor->seq &&
                   starts[i].prev_hash == anchor->prev_hash;
  }
  if (!anchor_found) {
    return Broken(files->front(), 1, std::nullopt,
                  absl::StrCat("the newest header says the log begins at ",
                               anchor->file, " (seq ", anchor->seq,
                               "); earlier records were deleted"));
  }
  if (records != nullptr) *records = checked;
  return absl::OkStatus();
}

}  // namespace candor::telemetry
