// AuditLog's files: resuming the chain at Open, beginning files (header,
// retention), and group commit with its recovery from failed writes. All
// of it runs under file_mu_, on Open's thread and then the writer thread.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/storage/files.h"
#include "server/telemetry/audit_checkpoint.h"
#include "server/telemetry/audit_log.h"
#include "server/telemetry/audit_verify.h"

namespace candor::telemetry {
namespace {

namespace fs = std::filesystem;

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

// The float's shortest decimal form as a JSON number: 0.4f is written 0.4,
// not 0.4000000059604645, and reads back as the same float.
double ShortestDouble(float f) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), f);
  return ec == std::errc() ? std::stod(std::string(buf, end)) : f;
}

AuditJson RecordFields(const AuditRecord& r) {
  AuditJson j;
  j["start_time"] = Rfc3339(r.start_time);
  j["end_time"] = Rfc3339(r.end_time);
  j["operation"] = r.operation;
  j["identity"] = r.identity;
  j["peer"] = r.peer;
  j["forwarded_by"] = r.forwarded_by;
  j["purpose"] = r.purpose;
  j["gallery"] = r.gallery;
  j["gallery_version"] = r.gallery_version;
  j["threshold"] =
      r.threshold ? AuditJson(ShortestDouble(*r.threshold)) : AuditJson();
  j["threshold_source"] = r.threshold_source;
  j["probe_count"] = r.probe_count;
  j["matched_entry_ids"] = r.matched_entry_ids;
  j["candidates_per_group"] = AuditJson::object();
  for (const auto& [group, count] : r.candidates_per_group) {
    j["candidates_per_group"][group] = count;
  }
  j["verdict"] = r.verdict ? AuditJson(VerdictOutcomeName(r.verdict->outcome))
                           : AuditJson();
  j["violations"] =
      r.verdict ? r.verdict->violations : std::vector<std::string>{};
  j["details"] = r.details;
  j["status_code"] = absl::StatusCodeToString(r.status_code);
  j["status_message"] = r.status_message;
  return j;
}

// The complete lines of a file's content (a torn last line left out).
std::vector<absl::string_view> CompleteLines(absl::string_view content) {
  std::vector<absl::string_view> lines;
  for (size_t eol; (eol = content.find('\n')) != absl::string_view::npos;) {
    lines.push_back(content.substr(0, eol));
    content.remove_prefix(eol + 1);
  }
  return lines;
}

// The first record of an audit file, reading that line only.
absl::StatusOr<OpenedRecord> ReadFirstRecord(const std::string& path,
                                             absl::string_view key) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line) || in.eof()) {
    return absl::DataLossError(
        absl::StrCat(path, " has no complete first record"));
  }
  absl::StatusOr<OpenedRecord> record = OpenRecord(line, key);
  if (!record.ok()) {
    return absl::DataLossError(
        absl::StrCat(path, " line 1: ", record.status().message()));
  }
  return record;
}

}  // namespace

absl::Status AuditLog::Resume() {
  next_seq_ = 1;
  last_hash_ = kGenesisHash;
  absl::StatusOr<std::vector<std::string>> files = ListAuditFiles(options_.dir);
  if (!files.ok()) return files.status();
  bool removed = false;
  while (!files->empty()) {
    const std::string path = (fs::path(options_.dir) / files->back()).string();
    absl::StatusOr<std::string> content = options_.env->ReadFile(path);
    if (!content.ok()) return content.status();
    const size_t eol = content->rfind('\n');
    const size_t complete = eol == std::string::npos ? 0 : eol + 1;
    if (complete < content->size()) {
      if (absl::Status s = options_.env->TruncateFile(path, complete);
          !s.ok()) {
        return s;
      }
      LogWarning(absl::StrCat(
          "audit log ", path, ": cut a torn last record at offset ", complete,
          " (", content->size() - complete,
          " bytes dropped): a write that a crash interrupted"));
      content->resize(complete);
    }
    if (content->empty()) {
      // Begun just before a crash, before its header was durable.
      if (absl::Status s = options_.env->RemoveFile(path); !s.ok()) return s;
      LogWarning(absl::StrCat("audit log ", path,
                              ": removed, it held no complete record"));
      files->pop_back();
      removed = true;
      continue;
    }
    const std::vector<absl::string_view> lines = CompleteLines(*content);
    absl::StatusOr<OpenedRecord> last = OpenRecord(lines.back(), options_.key);
    if (!last.ok()) {
      return absl::DataLossError(absl::StrCat(
          "audit log ", path, " line ", lines.size(), ": ",
          last.status().message(),
          "; the log cannot continue a chain it cannot check (wrong "
          "--audit_key_file? run candor audit verify)"));
    }
    next_seq_ = last->body["seq"].get<uint64_t>() + 1;
    last_hash_ = last->hash;
    break;
  }
  if (removed) {
    if (absl::Status s = options_.env->SyncDir(options_.dir); !s.ok()) {
      return s;
    }
  }
  if (!files->empty()) {
    // The next file header names how the oldest file begins.
    absl::StatusOr<OpenedRecord> first = ReadFirstRecord(
        (fs::path(options_.dir) / files->front()).string(), options_.key);
    if (!first.ok()) return first.status();
  }
  return CheckCheckpoint(*files);
}

absl::Status AuditLog::SealDamage(const absl::Status& damage) {
  absl::StatusOr<std::vector<std::string>> files = ListAuditFiles(options_.dir);
  if (!files.ok()) return files.status();
  std::optional<AuditCheckpoint> checkpoint;
  absl::Status checkpoint_status = absl::NotFoundError("");
  if (!options_.checkpoint_path.empty()) {
    absl::StatusOr<AuditCheckpoint> read =
        ReadAuditCheckpoint(options_.checkpoint_path, options_.key, options_.env);
    checkpoint_status = read.status();
    if (read.ok()) checkpoint = *read;
  }

  // The chain from its start, as far as it verifies.
  uint64_t last_seq = 0;
  std::string last_hash = kGenesisHash;
  std::string last_place;
  std::optional<uint64_t> expected;
  size_t bad = files->size();  // the first file that does not verify
  std::string why;
  bool any_opens = false;  // some record opens with this key at all
  bool checkpoint_verified = false;
  for (size_t i = 0; i < files->size(); ++i) {
    const std::string& file = (*files)[i];
    absl::StatusOr<std::string> content =
        options_.env->ReadFile((fs::path(options_.dir) / file).string());
    if (!content.ok()) return content.status();
    const std::vector<absl::string_view> lines = CompleteLines(*content);
    if (lines.empty() && bad == files->size()) {
      bad = i;
      why = absl::StrCat(file, ": no complete record");
    }
    for (size_t j = 0; j < lines.size(); ++j) {
      absl::StatusOr<OpenedRecord> record = OpenRecord(lines[j], options_.key);
      if (record.ok()) any_opens = true;
      if (bad != files->size()) {
        if (any_opens) break;
        continue;  // only looking for a record the key opens
      }
      const std::string place = absl::StrCat(file, " line ", j + 1);
      if (!record.ok()) {
        bad = i;
        why = absl::StrCat(place, ": ", record.status().message());
        continue;
      }
      const uint64_t seq = record->body["seq"].get<uint64_t>();
      const bool header =
          record->body.value("operation", "") == kFileHeaderOperation;
      if ((j == 0) != header) {
        bad = i;
        why = absl::StrCat(place, ": a file header out of place");
        continue;
      }
      if (expected && !(j == 0 && IsRecordedBreak(record->body)) &&
          (seq != *expected ||
           !HashesEqual(record->body["prev_hash"].get<std::string>(),
                        last_hash))) {
        bad = i;
        why = absl::StrCat(place, ": does not continue the chain (seq ", seq,
                           ", expected ", *expected, ")");
        continue;
      }
      if (checkpoint && seq == checkpoint->seq) {
        checkpoint_verified = HashesEqual(record->hash, checkpoint->hash);
      }
      expected = seq + 1;
      last_seq = seq;
      last_hash = record->hash;
      last_place = place;
    }
  }
  if (!files->empty() && !any_opens) {
    return absl::DataLossError(absl::StrCat(
        "no record of the audit log in ", options_.dir,
        " matches its HMAC under this key (", damage.message(),
        "): wrong --audit_key_file? Damage is sealed aside and the log goes "
        "on; a wrong key is refused"));
  }
  const bool records_lost = bad < files->size() ||
                            (checkpoint && checkpoint->seq > last_seq) ||
                            (checkpoint && checkpoint->seq <= last_seq &&
                             !checkpoint_verified && bad == files->size() &&
                             checkpoint->seq >= (files->empty()
                                                     ? 0
                                                     : AuditFileFirstSeq(
                                                           files->front())));
  const bool seal_checkpoint =
      !options_.checkpoint_path.empty() && !absl::IsNotFound(checkpoint_status) &&
      (!checkpoint || records_lost);
  if (bad == files->size() && !seal_checkpoint) {
    return damage;  // nothing found to seal: the damage is not understood
  }

  const absl::Time now = absl::Now();
  const std::string suffix = absl::StrCat(
      ".damaged-", absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone()));
  const std::string reason =
      bad < files->size() ? why : std::string(damage.message());
  AuditJson sealed_names = AuditJson::array();
  auto seal = [&](const std::string& kind, const std::string& path,
                  const std::string& name) -> absl::Status {
    const std::string target = path + suffix;
    if (options_.env->FileExists(target)) {
      return absl::UnavailableError(
          absl::StrCat("cannot seal ", path, " aside: ", target, " exists"));
    }
    if (absl::Status s = options_.env->RenameFile(path, target); !s.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "cannot seal ", path, " aside as ", target, ": ", s.message()));
    }
    sealed_.push_back({kind, name, target, reason, absl::ToUnixMicros(now)});
    sealed_names.push_back(name + suffix);
    return absl::OkStatus();
  };
  for (size_t i = bad; i < files->size(); ++i) {
    if (absl::Status s = seal("audit_log",
                              (fs::path(options_.dir) / (*files)[i]).string(),
                              (*files)[i]);
        !s.ok()) {
      return s;
    }
  }
  if (seal_checkpoint) {
    const std::string& path = options_.checkpoint_path;
    if (absl::Status s =
            seal("audit_checkpoint", path, fs::path(path).filename().string());
        !s.ok()) {
      return s;
    }
    if (absl::Status s = options_.env->SyncDir(
            storage::ParentDir(options_.checkpoint_path));
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = options_.env->SyncDir(options_.dir); !s.ok()) return s;

  next_seq_ = last_seq + 1;
  last_hash_ = last_hash;
  if (records_lost) {
    break_ = AuditJson::object();
    break_["reason"] = reason;
    break_["sealed"] = sealed_names;
    break_["last_verified_seq"] = last_seq;
    break_["last_verified_hash"] = last_hash;
  }
  LogError(absl::StrCat(
      "audit log damaged: ", reason, "; sealed aside: ", sealed_names.dump(),
      records_lost
          ? absl::StrCat("; a new chain begins after the last verified record "
                         "(seq ", last_seq,
                         last_place.empty() ? "" : absl::StrCat(", ", last_place),
                         "), and candor audit verify names the break")
          : "; the chain itself is intact"));
  return absl::OkStatus();
}

absl::Status AuditLog::CheckCheckpoint(const std::vector<std::string>& files) {
  if (options_.checkpoint_path.empty()) return absl::OkStatus();
  absl::StatusOr<AuditCheckpoint> checkpoint =
      ReadAuditCheckpoint(options_.checkpoint_path, options_.key, options_.env);
  if (absl::IsNotFound(checkpoint.status()))
    return absl::OkStatus();  // first start
  if (!checkpoint.ok()) {
    return absl::DataLossError(absl::StrCat(checkpoint.status().message(),
                                            " (wrong --audit_key_file?)"));
  }
  const uint64_t last_seq = next_seq_ - 1;
  const std::string keep = absl::StrCat(
      "; keep the audit folder and ", options_.checkpoint_path,
      " for investigation, and move the checkpoint aside to start anew");
  if (checkpoint->seq > last_seq) {
    return absl::DataLossError(
        absl::StrCat("the audit log in ", options_.dir,
                     " was truncated after checkpoint seq ", checkpoint->seq,
                     ": the last record is seq ", last_seq, keep));
  }
  // The file holding the checkpointed record: the last one beginning at or
  // before it. None when retention has deleted it.
  auto holder = std::upper_bound(files.begin(), files.end(), checkpoint->seq,
                                 [](uint64_t seq, const std::string& name) {
                                   return seq < AuditFileFirstSeq(name);
                                 });
  if (holder == files.begin()) return absl::OkStatus();
  --holder;
  const std::string path = (fs::path(options_.dir) / *holder).string();
  absl::StatusOr<std::string> content = options_.env->ReadFile(path);
  if (!content.ok()) return content.status();
  const std::vector<absl::string_view> lines = CompleteLines(*content);
  const uint64_t index = checkpoint->seq - AuditFileFirstSeq(*holder);
  absl::StatusOr<OpenedRecord> record =
      index < lines.size() ? OpenRecord(lines[index], options_.key)
                           : absl::DataLossError("the record is missing");
  if (!record.ok() || record->body["seq"].get<uint64_t>() != checkpoint->seq ||
      !HashesEqual(record->hash, checkpoint->hash)) {
    return absl::DataLossError(
        absl::StrCat("the audit log does not hold the record checkpoint ",
                     options_.checkpoint_path, " names (seq ", checkpoint->seq,
                     ", ", path, " line ", index + 1,
                     "): the log was rewritten after the checkpoint", keep));
  }
  return absl::OkStatus();
}

absl::Status AuditLog::BeginFile() {
  if (file_ != nullptr) {
    file_->Close().IgnoreError();  // everything in it is durable already
    file_.reset();
  }
  absl::StatusOr<std::vector<std::string>> old_files =
      ListAuditFiles(options_.dir);
  if (!old_files.ok()) return old_files.status();
  const fs::path dir(options_.dir);
  const std::string name = AuditFileName(next_seq_);

  // Retention deletes a prefix of the old files, oldest first, so that the
  // files kept still chain; the new file counts toward max_files.
  size_t deleted = 0;
  const auto cutoff = fs::file_time_type::clock::now() -
                      absl::ToChronoNanoseconds(options_.max_age);
  for (const std::string& old : *old_files) {
    const size_t kept = old_files->size() - deleted + 1;
    std::error_code ec;
    const bool too_many = options_.max_files > 0 &&
                          kept > static_cast<size_t>(options_.max_files);
    const bool too_old = options_.max_age > absl::ZeroDuration() &&
                         fs::last_write_time(dir / old, ec) < cutoff && !ec;
    if (!too_many && !too_old) break;
    ++deleted;
  }
  // The header names the oldest file kept and how its chain begins, so a
  // verifier notices when more files go missing than retention removed.
  AuditJson header;
  header["time"] = Rfc3339(absl::Now());
  header["operation"] = kFileHeaderOperation;
  header["file"] = name;
  header["mac"] = kAuditMac;
  if (!break_.is_null()) header[kBreakMember] = break_;
  if (deleted < old_files->size()) {
    const std::string& oldest = (*old_files)[deleted];
    absl::StatusOr<OpenedRecord> first =
        ReadFirstRecord((dir / oldest).string(), options_.key);
    if (!first.ok()) return first.status();
    header["oldest_file"] = oldest;
    header["oldest_seq"] = first->body["seq"];
    header["oldest_prev_hash"] = first->body["prev_hash"];
  } else {
    header["oldest_file"] = name;
    header["oldest_seq"] = next_seq_;
    header["oldest_prev_hash"] = last_hash_;
  }

  const std::string path = (dir / name).string();
  storage::Env* env = options_.env;
  // Never over an existing file (a chain's records are never replaced).
  if (env->FileExists(path)) {
    return absl::UnavailableError(
        absl::StrCat("audit log cannot create ", path, ": it exists"));
  }
  auto file = env->NewWritableFile(path);
  if (!file.ok()) {
    return absl::UnavailableError(absl::StrCat("audit log cannot create ", path,
                                               ": ", file.status().message()));
  }
  // The folder entry first: a header made durable in a file that a crash
  // then forgets would be a gap in the chain.
  if (absl::Status s = env->SyncDir(options_.dir); !s.ok()) {
    (*file)->Close().IgnoreError();
    env->RemoveFile(path).IgnoreError();
    return absl::UnavailableError(absl::StrCat("audit log: ", s.message()));
  }
  file_ = std::move(*file);
  file_name_ = name;
  file_bytes_ = 0;
  file_records_ = 0;
  std::string hash;
  if (absl::Status s = WriteDurably(Seal(header, next_seq_, last_hash_, &hash));
      !s.ok()) {
    if (file_ != nullptr) file_->Close().IgnoreError();
    file_.reset();
    env->RemoveFile(path).IgnoreError();
    return s;
  }
  ++next_seq_;
  last_hash_ = std::move(hash);
  file_records_ = 1;
  break_ = AuditJson();  // recorded once, in this header
  PublishHead();

  for (size_t i = 0; i < deleted; ++i) {
    if (absl::Status s = env->RemoveFile((dir / (*old_files)[i]).string());
        !s.ok()) {
      LogWarning(absl::StrCat("audit log retention: cannot delete ",
                              (*old_files)[i], ": ", s.message()));
    }
  }
  if (deleted > 0) {
    if (absl::Status s = env->SyncDir(options_.dir); !s.ok()) {
      LogWarning(absl::StrCat("audit log retention: ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status AuditLog::WriteDurably(const std::string& lines) {
  const char* what = "write";
  absl::Status error = file_->Append(lines);
  if (error.ok()) {
    what = "fsync";
    error = file_->Sync();
  }
  if (error.ok()) {
    file_bytes_ += lines.size();
    return absl::OkStatus();
  }
  // No partial line may stay: the chain would break at it for good.
  if (absl::Status cut = file_->Truncate(file_bytes_); !cut.ok()) {
    LogError(absl::StrCat("audit log: cannot cut ", file_name_, " back to ",
                          file_bytes_, " bytes (", cut.message(),
                          "); the next record begins a new file"));
    file_->Close().IgnoreError();
    file_.reset();
  }
  return absl::UnavailableError(
      absl::StrCat("audit log ", what, " failed: ", error.message()));
}

std::vector<absl::StatusOr<uint64_t>> AuditLog::CommitGroup(
    const std::vector<Pending>& group) {
  std::vector<AuditJson> fields;
  fields.reserve(group.size());
  for (const Pending& p : group) fields.push_back(RecordFields(p.record));

  std::vector<absl::StatusOr<uint64_t>> results;
  results.reserve(group.size());
  absl::Status failure;
  // Each pass writes the records that fit in the current file with one
  // fsync; a record that does not fit begins the next file.
  while (results.size() < group.size()) {
    if (file_ == nullptr) {
      failure = BeginFile();
      if (!failure.ok()) break;
    }
    const size_t first = results.size();
    std::string lines;
    uint64_t seq = next_seq_;
    std::string hash = last_hash_;
    size_t end = first;
    for (; end < group.size(); ++end) {
      std::string line_hash;
      std::string line = Seal(fields[end], seq, hash, &line_hash);
      const uint64_t records = file_records_ + (end - first);
      if (records > 1 &&
          file_bytes_ + lines.size() + line.size() > options_.max_file_bytes) {
        break;
      }
      lines += line;
      hash = std::move(line_hash);
      ++seq;
    }
    if (end == first) {
      failure = BeginFile();
      if (!failure.ok()) break;
      continue;
    }
    failure = WriteDurably(lines);
    if (!failure.ok()) break;
    for (size_t i = first; i < end; ++i)
      results.push_back(next_seq_ + (i - first));
    file_records_ += end - first;
    next_seq_ = seq;
    last_hash_ = std::move(hash);
    PublishHead();
    absl::MutexLock lock(&mu_);
    stats_.records += end - first;
    ++stats_.group_commits;
  }
  if (!failure.ok()) {
    if (!absl::IsUnavailable(failure)) {
      failure = absl::UnavailableError(
          absl::StrCat("audit log: ", failure.message()));
    }
    absl::MutexLock lock(&mu_);
    stats_.failed_records += group.size() - results.size();
    // Not resize(n, failure): GCC 12 at -O3 warns (-Wmaybe-uninitialized,
    // a false alarm) inside StatusOr's copy there, which -Werror fails.
    while (results.size() < group.size()) results.emplace_back(failure);
  }
  return results;
}

std::string AuditLog::Seal(const AuditJson& fields, uint64_t seq,
                           const std::string& prev_hash,
                           std::string* hash) const {
  AuditJson body;
  body["seq"] = seq;
  for (const auto& [key, value] : fields.items()) body[key] = value;
  body["prev_hash"] = prev_hash;
  return SealRecord(body, options_.key, hash);
}

}  // namespace candor::telemetry
