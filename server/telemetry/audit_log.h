// The append-only audit log: one hash-chained JSON line per Search, Enroll,
// Remove and Calibrate (format in audit_chain.h). Never holds an embedding.
#ifndef CANDOR_SERVER_TELEMETRY_AUDIT_LOG_H_
#define CANDOR_SERVER_TELEMETRY_AUDIT_LOG_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/types.h"
#include "server/telemetry/audit_chain.h"
#include "server/telemetry/verdict.h"

namespace candor::telemetry {

inline constexpr char kAuditSearch[] = "Search";
inline constexpr char kAuditEnroll[] = "Enroll";
inline constexpr char kAuditRemove[] = "Remove";
inline constexpr char kAuditCalibrate[] = "Calibrate";

struct AuditRecord {
  absl::Time start_time;
  absl::Time end_time;
  // kAuditSearch, kAuditEnroll, kAuditRemove or kAuditCalibrate.
  std::string operation;
  // Peer address and authenticated identity, as the API layer knows them.
  std::string caller;
  std::string purpose;
  std::string gallery;
  uint64_t gallery_version = 0;
  // Search: the threshold used and where it came from ("request", "policy").
  std::optional<float> threshold;
  std::string threshold_source;
  uint32_t probe_count = 0;
  // Search: the candidates' entry ids, one list per probe in probe order.
  // Enroll / Remove: one list with the ids enrolled or removed.
  std::vector<std::vector<EntryId>> matched_entry_ids;
  // Search: candidates returned per candidate group ("" = unlabeled).
  std::map<std::string, uint64_t> candidates_per_group;
  std::optional<Verdict> verdict;
  absl::StatusCode status_code = absl::StatusCode::kOk;
  std::string status_message;
};

class AuditLog {
 public:
  struct Options {
    // Folder of the audit files; created when missing.
    std::string dir;
    // A file that would grow past this is closed and a new one begun.
    uint64_t max_file_bytes = 64ull << 20;
    // Retention, applied whenever a file is begun (0 / zero = keep all).
    // The oldest whole files go first; the new file is always kept.
    int max_files = 0;
    absl::Duration max_age = absl::ZeroDuration();
    // fsync after every this many records (1 = each record is durable when
    // Append returns; 0 = leave it to the OS and Sync()).
    int sync_every_records = 1;
  };

  // Continues the chain of the files already in options.dir in a new file.
  // DataLoss when the newest file ends in a partial or corrupt record (run
  // VerifyAuditLog); InvalidArgument for bad options.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const Options& options);

  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one record and returns its sequence number. Thread-safe.
  absl::StatusOr<uint64_t> Append(const AuditRecord& record);

  // fsync of the current file.
  absl::Status Sync();

  // The hash of the newest record: publish it elsewhere to anchor the tail.
  std::string last_hash() const;

 private:
  explicit AuditLog(const Options& options);

  // Begins file AuditFileName(next_seq_) with its header record, then
  // applies retention.
  absl::Status BeginFileLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Seals `fields` as record next_seq_ and appends it to the current file.
  absl::Status WriteLocked(const AuditJson& fields, bool may_rotate)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  uint64_t file_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t file_records_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  std::string last_hash_ ABSL_GUARDED_BY(mu_);
  int unsynced_records_ ABSL_GUARDED_BY(mu_) = 0;
  // Set by a failed write: a torn line would break the chain for every
  // later record, so the log refuses further records until reopened.
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
};

// Checks every audit file in `dir`: each record against its hash, the chain
// of seq and prev_hash across files, each file's header, and that the oldest
// file retention kept is still there. OK, or DataLoss naming the first
// broken record (file, line, seq). `records`, when given, receives the
// number of records checked.
absl::Status VerifyAuditLog(const std::string& dir, uint64_t* records = nullptr);

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_AUDIT_LOG_H_
