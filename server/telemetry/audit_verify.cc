#include "server/telemetry/audit_verify.h"

#include <filesystem>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "server/telemetry/audit_chain.h"
#include "server/telemetry/audit_checkpoint.h"
#include "server/storage/env.h"

namespace candor::telemetry {
namespace {

// Where the newest file header says the retained chain begins.
struct Anchor {
  std::string file;
  uint64_t seq = 0;
  std::string prev_hash;
};

// The first record of a file, as found.
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

bool IsRecordedBreak(const AuditJson& header) {
  if (!header.is_object() ||
      header.value("operation", "") != kFileHeaderOperation ||
      !header.contains(kBreakMember) || !header[kBreakMember].is_object()) {
    return false;
  }
  const AuditJson& b = header[kBreakMember];
  if (!b.contains("last_verified_seq") ||
      !b["last_verified_seq"].is_number_unsigned() ||
      !b.contains("last_verified_hash") ||
      !b["last_verified_hash"].is_string()) {
    return false;
  }
  return header["seq"].get<uint64_t>() ==
             b["last_verified_seq"].get<uint64_t>() + 1 &&
         HashesEqual(header["prev_hash"].get<std::string>(),
                     b["last_verified_hash"].get<std::string>());
}

std::string DescribeBreak(const AuditJson& header, const std::string& place) {
  const AuditJson& b = header[kBreakMember];
  std::string sealed;
  if (b.contains("sealed") && b["sealed"].is_array()) {
    for (const AuditJson& name : b["sealed"]) {
      if (!name.is_string()) continue;
      absl::StrAppend(&sealed, sealed.empty() ? "" : ", ",
                      name.get<std::string>());
    }
  }
  const uint64_t last = b["last_verified_seq"].get<uint64_t>();
  return absl::StrCat(
      "chain break recorded at ", place, " (seq ", last + 1,
      "): ", b.value("reason", "(no reason given)"), "; sealed aside: ",
      sealed.empty() ? "nothing" : sealed, "; the new chain continues from ",
      last == 0 ? std::string("the beginning (nothing verified)")
                : absl::StrCat("the last verified record, seq ", last),
      " (hash ", b["last_verified_hash"].get<std::string>(), ")");
}

absl::Status VerifyAuditLog(const VerifyOptions& options,
                            VerifyResult* result) {
  *result = VerifyResult();
  if (options.key.empty())
    return absl::InvalidArgumentError("no audit key given");
  std::optional<AuditCheckpoint> checkpoint;
  if (!options.checkpoint_path.empty()) {
    absl::StatusOr<AuditCheckpoint> read =
        ReadAuditCheckpoint(options.checkpoint_path, options.key);
    if (!read.ok()) return read.status();
    checkpoint = *read;
  }
  absl::StatusOr<std::vector<std::string>> files = ListAuditFiles(options.dir);
  if (!files.ok()) return files.status();
  if (files->empty()) {
    return absl::NotFoundError(absl::StrCat("no audit files in ", options.dir));
  }
  std::optional<uint64_t> expected_seq;
  std::string last_hash;
  std::string last_place;  // "<file> line <n>" of the last record
  std::optional<Anchor> anchor;
  std::map<std::string, FileStart> starts;
  bool checkpoint_seen = false;
  for (const std::string& file : *files) {
    absl::StatusOr<std::string> content =
        storage::Env::Default()->ReadFile(
            (std::filesystem::path(options.dir) / file).string());
    if (!content.ok()) return content.status();
    if (content->empty())
      return Broken(file, 1, expected_seq, "the file is empty");
    const bool newest = file == files->back();
    absl::string_view rest = *content;
    for (size_t line_no = 1; !rest.empty(); ++line_no) {
      const size_t eol = rest.find('\n');
      if (eol == absl::string_view::npos) {
        if (newest) {
          return Broken(
              file, line_no, expected_seq,
              "partial record at the end (a crash mid-write leaves one; "
              "the server cuts it off when it next starts)");
        }
        // A write that failed and could not be cut back; the next file's
        // header must chain from the record before it, which is checked.
        result->notes.push_back(
            absl::StrCat(file, " line ", line_no, ": ", rest.size(),
                         " bytes of a torn record (a failed "
                         "write), not part of the chain"));
        break;
      }
      const absl::string_view line = rest.substr(0, eol);
      rest.remove_prefix(eol + 1);
      absl::StatusOr<OpenedRecord> record = OpenRecord(line, options.key);
      if (!record.ok()) {
        return Broken(file, line_no, expected_seq, record.status().message());
      }
      const AuditJson& body = record->body;
      const uint64_t seq = body["seq"].get<uint64_t>();
      const std::string prev_hash = body["prev_hash"].get<std::string>();
      // A break the server recorded: the chain resumes here from the last
      // record it verified, which may lie in a file sealed aside.
      const bool recorded_break = line_no == 1 && IsRecordedBreak(body);
      if (recorded_break) {
        result->breaks.push_back(
            DescribeBreak(body, absl::StrCat(file, " line 1")));
      }
      if (expected_seq && seq != *expected_seq && !recorded_break) {
        return Broken(
            file, line_no, seq,
            absl::StrCat("expected seq ", *expected_seq,
                         " (a record is missing, reordered or inserted)"));
      }
      if (expected_seq && !recorded_break &&
          !HashesEqual(prev_hash, last_hash)) {
        return Broken(file, line_no, seq,
                      "prev_hash does not match the previous record");
      }
      const bool is_header =
          body.value("operation", "") == kFileHeaderOperation;
      if ((line_no == 1) != is_header) {
        return Broken(file, line_no, seq,
                      line_no == 1 ? "the file does not begin with its header"
                                   : "a file header inside a file");
      }
      if (is_header) {
        if (body.value("file", "") != file) {
          return Broken(
              file, line_no, seq,
              absl::StrCat("header names file ", body.value("file", "")));
        }
        if (body.value("mac", "") != kAuditMac) {
          return Broken(file, line_no, seq,
                        absl::StrCat("header does not state \"mac\":\"",
                                     kAuditMac, "\""));
        }
        anchor = Anchor{body.value("oldest_file", ""),
                        body.value("oldest_seq", uint64_t{0}),
                        body.value("oldest_prev_hash", "")};
        starts[file] = {seq, prev_hash};
      }
      if (checkpoint && seq == checkpoint->seq) {
        if (!HashesEqual(record->hash, checkpoint->hash)) {
          return Broken(
              file, line_no, seq,
              absl::StrCat(
                  "not the record checkpoint ", options.checkpoint_path,
                  " names: the log was rewritten after the checkpoint"));
        }
        checkpoint_seen = true;
      }
      expected_seq = seq + 1;
      last_hash = record->hash;
      last_place = absl::StrCat(file, " line ", line_no);
      result->last_seq = seq;
      ++result->records;
    }
  }
  if (!anchor) {
    return Broken(files->front(), 1, std::nullopt,
                  "no file holds a complete header");
  }
  // Retention only ever removes whole files older than the anchor's file;
  // the anchor's file itself must remain, beginning as it did.
  const auto start = starts.find(anchor->file);
  if (start == starts.end() || start->second.seq != anchor->seq ||
      start->second.prev_hash != anchor->prev_hash) {
    return Broken(
        files->front(), 1, std::nullopt,
        absl::StrCat("the newest header says the log begins at ", anchor->file,
                     " (seq ", anchor->seq, "); earlier records were deleted"));
  }
  if (checkpoint) {
    if (result->last_seq < checkpoint->seq) {
      return absl::DataLossError(
          absl::StrCat("the log was truncated after checkpoint seq ",
                       checkpoint->seq, ": the last record is seq ",
                       result->last_seq, " (", last_place, ")"));
    }
    if (!checkpoint_seen) {
      result->notes.push_back(
          absl::StrCat("checkpoint seq ", checkpoint->seq,
                       " is older than the oldest record retention kept; only "
                       "its position was checked"));
    }
    result->checkpoint_seq = checkpoint->seq;
  }
  result->last_hash = last_hash;
  return absl::OkStatus();
}

}  // namespace candor::telemetry
