// Every finished call of either role into its audit log: the CallRecord as
// an audit record, appended with group commit, and the call answered only
// once that record is durable (the log fails closed). Metrics of the call
// go to the MetricsObserver on the way.
#ifndef CANDOR_SERVER_TELEMETRY_AUDIT_SINK_H_
#define CANDOR_SERVER_TELEMETRY_AUDIT_SINK_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/quarantine.h"
#include "server/storage/env.h"
#include "server/telemetry/audit_log.h"
#include "server/telemetry/call_record.h"
#include "server/telemetry/metrics_observer.h"

namespace candor::telemetry {

class AuditSink {
 public:
  struct Options {
    // The audit files' folder.
    std::string dir;
    // The HMAC key's file, created (0600) when missing.
    std::string key_file;
    // Where the chain's head is checkpointed ("" = nowhere).
    std::string checkpoint_file;
    uint64_t max_file_bytes = 64ull << 20;
    int max_files = 0;
    absl::Duration max_age = absl::ZeroDuration();
    absl::Duration checkpoint_interval = absl::Seconds(60);
    storage::Env* env = storage::Env::Default();
  };

  // Opens (or begins) the log. `observer` (not owned, may be null, outlives
  // the sink) sees every call and counts write failures and checkpoints.
  static absl::StatusOr<std::unique_ptr<AuditSink>> Open(
      const Options& options, MetricsObserver* observer);

  // Metrics of the call, then its audit record, appended off this thread;
  // `done` runs once it is durable, with OK, or with Unavailable when it
  // could not be written: the call must then fail and return nothing.
  // `record` is read before Record returns.
  void Record(const CallRecord& record, std::function<void(absl::Status)> done);

  // The audit record of a call (never an embedding).
  static AuditRecord AuditRecordOf(
      const CallRecord& record,
      const std::map<std::string, uint64_t>& candidates_per_group);

  // The log files and checkpoint that Open sealed aside.
  std::vector<QuarantineRecord> Sealed() const;

 private:
  AuditSink(std::unique_ptr<AuditLog> log, MetricsObserver* observer)
      : log_(std::move(log)), observer_(observer) {}

  const std::unique_ptr<AuditLog> log_;
  MetricsObserver* const observer_;
};

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_AUDIT_SINK_H_
