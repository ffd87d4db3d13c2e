// The append-only audit log: one HMAC-chained JSON line per RPC (format in
// audit_chain.h), written by the log's own thread with group commit, and a
// checkpoint of its head (audit_checkpoint.h). Never holds an embedding.
//
// Durability and failure: Append hands a record to the writer thread and
// returns at once. The writer takes every record queued, writes them, and
// makes them durable with one fsync; only then does each record's `done`
// learn its seq. When a write or fsync fails (disk full, I/O error), every
// record of that group gets UNAVAILABLE, the file is cut back to its last
// durable length, and the next group tries again: the log is never left
// with a partial line or a gap, and recovers when the disk does.
#ifndef CANDOR_SERVER_TELEMETRY_AUDIT_LOG_H_
#define CANDOR_SERVER_TELEMETRY_AUDIT_LOG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/types.h"
#include "server/storage/env.h"
#include "server/telemetry/audit_chain.h"
#include "server/telemetry/verdict.h"

namespace candor::telemetry {

// One RPC, as the audit log records it (JSON members in this order, named
// as the fields).
struct AuditRecord {
  absl::Time start_time;
  absl::Time end_time;
  // The RPC's short name ("Search", "SetPolicy"), also when it was denied.
  std::string operation;
  // The authenticated caller; "" when there is none.
  std::string identity;
  // The transport address of the peer that made the call.
  std::string peer;
  // The router's identity when a trusted router forwarded the call, else "".
  std::string forwarded_by;
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
  // Written as "verdict" (its outcome) and "violations".
  std::optional<Verdict> verdict;
  // What else the call touched: counts, the policy before and after for
  // SetPolicy, and so on. A JSON object.
  AuditJson details = AuditJson::object();
  absl::StatusCode status_code = absl::StatusCode::kOk;
  std::string status_message;
};

class AuditLog {
 public:
  struct Options {
    // Folder of the audit files; created 0700 when missing (a wider mode
    // found there is narrowed to 0700, with a log line).
    std::string dir;
    // The HMAC key (raw bytes, see audit_key.h); required.
    std::string key;
    // A file that would grow past this is closed and a new one begun.
    uint64_t max_file_bytes = 64ull << 20;
    // Retention, applied whenever a file is begun (0 / zero = keep all).
    // The oldest whole files go first; the new file is always kept.
    int max_files = 0;
    absl::Duration max_age = absl::ZeroDuration();
    // Where the head is checkpointed ("" = nowhere): at Open, every
    // checkpoint_interval, on Checkpoint(), and when the log is destroyed.
    std::string checkpoint_path;
    absl::Duration checkpoint_interval = absl::Seconds(60);
    // Called once for every record that could not be written (on the writer
    // thread). May be empty.
    std::function<void()> on_write_failure;
    // Called with the checkpointed seq after each checkpoint is written.
    // May be empty.
    std::function<void(uint64_t seq)> on_checkpoint;
    // The audit files and the checkpoint are written through this (tests
    // pass one that injects faults). Not owned; outlives the log.
    storage::Env* env = storage::Env::Default();
  };

  // The newest durable record.
  struct Head {
    uint64_t seq = 0;
    std::string hash;
  };

  struct Stats {
    uint64_t records = 0;        // appended durably, file headers included
    uint64_t group_commits = 0;  // fsyncs that made appended records durable
    uint64_t failed_records = 0;
  };

  // Receives the record's seq once it is durable, or UNAVAILABLE. Runs on
  // the writer thread: it must not wait for another record of this log.
  using Done = std::function<void(absl::StatusOr<uint64_t>)>;

  // What Open found damaged and sealed aside (renamed
  // <name>.damaged-<UTC time>, never erased).
  struct SealedFile {
    std::string kind;  // "audit_log" or "audit_checkpoint"
    std::string name;  // the file's name before it was sealed
    std::string path;  // where it lies now
    std::string reason;
    int64_t at_us = 0;
  };

  // Continues the chain of the files already in options.dir in a new file
  // and starts the writer thread. A torn last line in the newest file (a
  // crash mid-write) is cut off, with a log line. Damage does not stop it:
  // when the newest complete record or the oldest file's first record does
  // not match its HMAC (edited, damaged, or another key), or the checkpoint
  // file is damaged or shows records missing from the log's end, the chain
  // is checked from its start, every file from the first that does not
  // verify (and the checkpoint, when it is the evidence) is sealed aside,
  // and the new file's header records the break (audit_verify.h,
  // kBreakMember): it links to the last record that verified. Listed by
  // sealed(), logged. InvalidArgument for bad options (an empty key among
  // them); Unavailable when files cannot be read, renamed or written.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const Options& options);

  // Writes what is queued, a last checkpoint, then stops the writer.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues `record` and returns at once; `done` (may be empty) is called
  // later. Thread-safe.
  void Append(AuditRecord record, Done done);

  // Append, then waits for the result: for tools and tests, never on a
  // thread that others wait for, nor inside a Done.
  absl::StatusOr<uint64_t> AppendAndWait(const AuditRecord& record);

  // Writes the head to options.checkpoint_path now (OK when there is none).
  absl::Status Checkpoint();

  Head head() const;
  Stats stats() const;
  // What Open sealed aside; empty when it found the log whole.
  const std::vector<SealedFile>& sealed() const { return sealed_; }

 private:
  struct Pending {
    AuditRecord record;
    Done done;
  };

  explicit AuditLog(const Options& options);

  // Picks up the chain from the newest file (cutting a torn tail) and
  // checks it against the checkpoint file.
  absl::Status Resume() ABSL_EXCLUSIVE_LOCKS_REQUIRED(file_mu_);
  // The checkpoint file, if any, names a record this log still holds.
  absl::Status CheckCheckpoint(const std::vector<std::string>& files)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(file_mu_);
  // After Resume found `damage`: finds the last record that verifies from
  // the chain's start, seals aside every file from the first that does not
  // (and the checkpoint, unless it is intact and names a verified record),
  // and continues the chain from that record with a break (break_).
  absl::Status SealDamage(const absl::Status& damage)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(file_mu_);
  // Begins file AuditFileName(next_seq_) with its header record, then
  // applies retention.
  absl::Status BeginFile() ABSL_EXCLUSIVE_LOCKS_REQUIRED(file_mu_);
  // Writes `lines` (sealed, consecutive from next_seq_) to the current file
  // and fsyncs it; on failure cuts the file back to file_bytes_ (or, when
  // that fails too, closes it: the next group begins a new file).
  // UNAVAILABLE naming the cause.
  absl::Status WriteDurably(const std::string& lines)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(file_mu_);
  // Writes one group; returns each record's result in order.
  std::vector<absl::StatusOr<uint64_t>> CommitGroup(
      const std::vector<Pending>& group)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(file_mu_);
  // Seals `fields` as record `seq` after `prev_hash`.
  std::string Seal(const AuditJson& fields, uint64_t seq,
                   const std::string& prev_hash, std::string* hash) const;
  void PublishHead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(file_mu_);
  void WriterLoop();

  const Options options_;

  // The current file and the chain's end. Held by whoever writes: Open,
  // then the writer thread. Taken before mu_.
  absl::Mutex file_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // The current file; null before the first, or after a failed cut-back.
  std::unique_ptr<storage::WritableFile> file_ ABSL_GUARDED_BY(file_mu_);
  std::string file_name_ ABSL_GUARDED_BY(file_mu_);
  uint64_t file_bytes_ ABSL_GUARDED_BY(file_mu_) = 0;  // durable length
  uint64_t file_records_ ABSL_GUARDED_BY(file_mu_) = 0;
  uint64_t next_seq_ ABSL_GUARDED_BY(file_mu_) = 1;
  std::string last_hash_ ABSL_GUARDED_BY(file_mu_);
  // The "break" member for the next file header (null: none).
  AuditJson break_ ABSL_GUARDED_BY(file_mu_);
  // Set by Open, read-only afterwards.
  std::vector<SealedFile> sealed_;

  // Serializes checkpoint writes, so a later head is never overwritten by
  // an earlier one. Taken before mu_.
  absl::Mutex checkpoint_mu_ ABSL_ACQUIRED_BEFORE(mu_);

  // The queue between Append and the writer, and what others may read.
  mutable absl::Mutex mu_;
  absl::CondVar wake_;  // queue_ or stopping_ changed
  std::vector<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Head head_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);

  std::thread writer_;
};

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_AUDIT_LOG_H_
