// AuditLog: the queue, the writer thread and checkpoints. How records reach
// the files (group commit, rotation, recovery) is in audit_writer.cc.
#include "server/telemetry/audit_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "server/common/log.h"
#include "server/telemetry/audit_checkpoint.h"

namespace candor::telemetry {
namespace {

// Creates `dir` 0700 (its parents as the umask says), or narrows the mode
// of the folder that is there.
absl::Status EnsurePrivateDir(const std::string& dir) {
  const std::filesystem::path path(dir);
  std::error_code ec;
  if (path.has_parent_path())
    std::filesystem::create_directories(path.parent_path(), ec);
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot create audit folder ", dir));
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot examine audit folder ", dir));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("audit folder ", dir, " is not a folder"));
  }
  if ((st.st_mode & 077) != 0) {
    if (chmod(dir.c_str(), 0700) != 0) {
      return absl::ErrnoToStatus(
          errno, absl::StrCat("cannot chmod audit folder ", dir));
    }
    LogWarning(
        absl::StrFormat("audit folder %s had mode %04o; narrowed to 0700", dir,
                        st.st_mode & 07777));
  }
  return absl::OkStatus();
}

}  // namespace

AuditLog::AuditLog(const Options& options) : options_(options) {}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(
    const Options& options) {
  if (options.dir.empty() || options.max_file_bytes < 1024 ||
      options.max_files < 0 || options.max_age < absl::ZeroDuration() ||
      options.checkpoint_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "audit log needs a folder, max_file_bytes >= 1024, non-negative "
        "max_files and max_age, and a positive checkpoint_interval");
  }
  if (options.key.empty()) {
    return absl::InvalidArgumentError(
        "audit log needs a key (--audit_key_file)");
  }
  if (absl::Status s = EnsurePrivateDir(options.dir); !s.ok()) return s;
  std::unique_ptr<AuditLog> log(new AuditLog(options));
  {
    absl::MutexLock lock(&log->file_mu_);
    if (absl::Status s = log->Resume(); !s.ok()) {
      if (!absl::IsDataLoss(s)) return s;
      if (s = log->SealDamage(s); !s.ok()) return s;
    }
    if (absl::Status s = log->BeginFile(); !s.ok()) return s;
  }
  if (absl::Status s = log->Checkpoint(); !s.ok()) return s;
  log->writer_ = std::thread(&AuditLog::WriterLoop, log.get());
  return log;
}

AuditLog::~AuditLog() {
  // Open failed before the writer began: the files and the checkpoint are
  // as Open found them, and must stay so.
  if (!writer_.joinable()) return;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    wake_.Signal();
  }
  writer_.join();
  if (absl::Status s = Checkpoint(); !s.ok()) {
    LogError(absl::StrCat("audit log: last checkpoint failed: ", s.message()));
  }
  absl::MutexLock lock(&file_mu_);
  if (file_ != nullptr) file_->Close().IgnoreError();  // all of it durable
}

void AuditLog::Append(AuditRecord record, Done done) {
  absl::MutexLock lock(&mu_);
  queue_.push_back({std::move(record), std::move(done)});
  wake_.Signal();
}

absl::StatusOr<uint64_t> AuditLog::AppendAndWait(const AuditRecord& record) {
  absl::Notification written;
  absl::StatusOr<uint64_t> result;
  Append(record, [&](absl::StatusOr<uint64_t> r) {
    result = std::move(r);
    written.Notify();
  });
  written.WaitForNotification();
  return result;
}

void AuditLog::WriterLoop() {
  const bool checkpointing = !options_.checkpoint_path.empty();
  absl::Time next_checkpoint = absl::Now() + options_.checkpoint_interval;
  bool failing = false;  // the last group failed: log the recovery
  while (true) {
    std::vector<Pending> group;
    bool stopping = false;
    {
      absl::MutexLock lock(&mu_);
      while (queue_.empty() && !stopping_) {
        if (!checkpointing) {
          wake_.Wait(&mu_);
        } else if (wake_.WaitWithDeadline(&mu_, next_checkpoint)) {
          break;  // time for a checkpoint
        }
      }
      group.swap(queue_);
      stopping = stopping_;
    }
    if (!group.empty()) {
      std::vector<absl::StatusOr<uint64_t>> results;
      {
        absl::MutexLock lock(&file_mu_);
        results = CommitGroup(group);
      }
      const bool failed = !results.back().ok();
      if (failed && !failing) {
        LogError(absl::StrCat(
            "audit log: records are refused until writes succeed: ",
            results.back().status().message()));
      } else if (!failed && failing) {
        LogInfo("audit log: writes succeed again");
      }
      failing = failed;
      for (size_t i = 0; i < group.size(); ++i) {
        if (!results[i].ok() && options_.on_write_failure)
          options_.on_write_failure();
        if (group[i].done) group[i].done(std::move(results[i]));
      }
    }
    if (checkpointing && absl::Now() >= next_checkpoint) {
      if (absl::Status s = Checkpoint(); !s.ok()) {
        LogError(absl::StrCat("audit log: checkpoint failed: ", s.message()));
      }
      next_checkpoint = absl::Now() + options_.checkpoint_interval;
    }
    if (stopping && group.empty()) return;
  }
}

absl::Status AuditLog::Checkpoint() {
  if (options_.checkpoint_path.empty()) return absl::OkStatus();
  absl::MutexLock lock(&checkpoint_mu_);
  const Head now = head();
  if (absl::Status s =
          WriteAuditCheckpoint(options_.checkpoint_path,
                               {now.seq, now.hash, absl::Now()}, options_.key,
                               options_.env);
      !s.ok()) {
    return s;
  }
  if (options_.on_checkpoint) options_.on_checkpoint(now.seq);
  return absl::OkStatus();
}

void AuditLog::PublishHead() {
  absl::MutexLock lock(&mu_);
  head_ = {next_seq_ - 1, last_hash_};
}

AuditLog::Head AuditLog::head() const {
  absl::MutexLock lock(&mu_);
  return head_;
}

AuditLog::Stats AuditLog::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace candor::telemetry
