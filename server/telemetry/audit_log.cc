#include "server/telemetry/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "server/telemetry/file_io.h"

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
  j["caller"] = r.caller;
  j["purpose"] = r.purpose;
  j["gallery"] = r.gallery;
  j["gallery_version"] = r.gallery_version;
  j["threshold"] = r.threshold ? AuditJson(ShortestDouble(*r.threshold)) : AuditJson();
  j["threshold_source"] = r.threshold_source;
  j["probe_count"] = r.probe_count;
  j["matched_entry_ids"] = r.matched_entry_ids;
  j["candidates_per_group"] = AuditJson::object();
  for (const auto& [group, count] : r.candidates_per_group) {
    j["candidates_per_group"][group] = count;
  }
  j["verdict"] = r.verdict ? AuditJson(VerdictOutcomeName(r.verdict->outcome)) : AuditJson();
  j["violations"] = r.verdict ? r.verdict->violations : std::vector<std::string>{};
  j["status_code"] = absl::StatusCodeToString(r.status_code);
  j["status_message"] = r.status_message;
  return j;
}

absl::StatusOr<OpenedRecord> OpenRecordOf(const std::string& path,
                                          std::string_view line) {
  absl::StatusOr<OpenedRecord> record = OpenRecord(line);
  if (!record.ok()) {
    return absl::DataLossError(
        absl::StrCat(path, ": ", record.status().message()));
  }
  return record;
}

absl::Status PartialRecord(const std::string& path) {
  return absl::DataLossError(
      absl::StrCat(path, " ends in a partial record; run candor-audit verify"));
}

// The first record of an audit file, reading that line only.
absl::StatusOr<OpenedRecord> ReadFirstRecord(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line) || in.eof()) return PartialRecord(path);
  return OpenRecordOf(path, line);
}

// The last record of an audit file (read whole: files are bounded by
// max_file_bytes, and this runs once when the log is opened).
absl::StatusOr<OpenedRecord> ReadLastRecord(const std::string& path) {
  absl::StatusOr<std::string> content = ReadFileToString(path);
  if (!content.ok()) return content.status();
  if (content->empty() || content->back() != '\n') return PartialRecord(path);
  content->pop_back();
  const size_t cut = content->rfind('\n');
  return OpenRecordOf(path, cut == std::string::npos
                                ? std::string_view(*content)
                                : std::string_view(*content).substr(cut + 1));
}

absl::Status WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, "cannot append to the audit log");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

AuditLog::AuditLog(const Options& options) : options_(options) {}

AuditLog::~AuditLog() {
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) {
    SyncLocked().IgnoreError();  // nobody is left to tell
    close(fd_);
  }
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const Options& options) {
  if (options.dir.empty() || options.max_file_bytes < 1024 ||
      options.max_files < 0 || options.sync_every_records < 0 ||
      options.max_age < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "audit log needs a folder, max_file_bytes >= 1024 and non-negative "
        "max_files, max_age and sync_every_records");
  }
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot create audit folder ",
                                            options.dir, ": ", ec.message()));
  }
  absl::StatusOr<std::vector<std::string>> files = ListAuditFiles(options.dir);
  if (!files.ok()) return files.status();
  std::unique_ptr<AuditLog> log(new AuditLog(options));
  absl::MutexLock lock(&log->mu_);
  log->last_hash_ = kGenesisHash;
  if (!files->empty()) {
    absl::StatusOr<OpenedRecord> newest =
        ReadLastRecord((fs::path(options.dir) / files->back()).string());
    if (!newest.ok()) return newest.status();
    log->next_seq_ = newest->body["seq"].get<uint64_t>() + 1;
    log->last_hash_ = newest->hash;
  }
  if (absl::Status s = log->BeginFileLocked(); !s.ok()) return s;
  return log;
}

absl::Status AuditLog::BeginFileLocked() {
  absl::StatusOr<std::vector<std::string>> old_files = ListAuditFiles(options_.dir);
  if (!old_files.ok()) return old_files.status();
  if (fd_ >= 0) {
    if (absl::Status s = SyncLocked(); !s.ok()) return s;
    close(fd_);
    fd_ = -1;
  }
  const std::string name = AuditFileName(next_seq_);
  const fs::path dir(options_.dir);
  fd_ = open((dir / name).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
             0644);
  if (fd_ < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot create audit file ", name));
  }
  file_bytes_ = 0;
  file_records_ = 0;

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
  if (deleted < old_files->size()) {
    const std::string& oldest = (*old_files)[deleted];
    absl::StatusOr<OpenedRecord> first = ReadFirstRecord((dir / oldest).string());
    if (!first.ok()) return first.status();
    header["oldest_file"] = oldest;
    header["oldest_seq"] = first->body["seq"];
    header["oldest_prev_hash"] = first->body["prev_hash"];
  } else {
    header["oldest_file"] = name;
    header["oldest_seq"] = next_seq_;
    header["oldest_prev_hash"] = last_hash_;
  }
  if (absl::Status s = WriteLocked(header, /*may_rotate=*/false); !s.ok()) return s;
  if (absl::Status s = SyncLocked(); !s.ok()) return s;
  for (size_t i = 0; i < deleted; ++i) {
    std::error_code ec;
    fs::remove(dir / (*old_files)[i], ec);
    if (ec) {
      return absl::InternalError(absl::StrCat("cannot delete audit file ",
                                              (*old_files)[i], ": ", ec.message()));
    }
  }
  return SyncDirectory(options_.dir);
}

absl::Status AuditLog::WriteLocked(const AuditJson& fields, bool may_rotate) {
  if (!failed_.ok()) return failed_;
  auto seal = [&](std::string* hash) {
    AuditJson body;
    body["seq"] = next_seq_;
    for (const auto& [key, value] : fields.items()) body[key] = value;
    body["prev_hash"] = last_hash_;
    return SealRecord(body, hash);
  };
  std::string hash;
  std::string line = seal(&hash);
  if (may_rotate && file_records_ > 1 &&
      file_bytes_ + line.size() > options_.max_file_bytes) {
    if (absl::Status s = BeginFileLocked(); !s.ok()) return s;
    line = seal(&hash);
  }
  if (absl::Status s = WriteAll(fd_, line); !s.ok()) {
    failed_ = s;
    return s;
  }
  file_bytes_ += line.size();
  ++file_records_;
  ++next_seq_;
  last_hash_ = std::move(hash);
  ++unsynced_records_;
  if (options_.sync_every_records > 0 &&
      unsynced_records_ >= options_.sync_every_records) {
    return SyncLocked();
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> AuditLog::Append(const AuditRecord& record) {
  const AuditJson fields = RecordFields(record);
  absl::MutexLock lock(&mu_);
  if (absl::Status s = WriteLocked(fields, /*may_rotate=*/true); !s.ok()) return s;
  return next_seq_ - 1;
}

absl::Status AuditLog::Sync() {
  absl::MutexLock lock(&mu_);
  return SyncLocked();
}

absl::Status AuditLog::SyncLocked() {
  if (fd_ < 0 || unsynced_records_ == 0) return absl::OkStatus();
  if (fsync(fd_) != 0) return absl::ErrnoToStatus(errno, "cannot fsync the audit log");
  unsynced_records_ = 0;
  return absl::OkStatus();
}

std::string AuditLog::last_hash() const {
  absl::MutexLock lock(&mu_);
  return last_hash_;
}

}  // namespace candor::telemetry
