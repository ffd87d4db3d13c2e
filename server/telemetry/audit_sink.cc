#include "server/telemetry/audit_sink.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/telemetry/audit_key.h"
#include "server/telemetry/policy.h"

namespace candor::telemetry {

absl::StatusOr<std::unique_ptr<AuditSink>> AuditSink::Open(
    const Options& options, MetricsObserver* observer) {
  auto key = LoadOrCreateAuditKey(options.key_file);
  if (!key.ok()) return key.status();
  if (!KeyFileIsPrivate(options.key_file)) {
    LogWarning(absl::StrCat("audit key ", options.key_file,
                            " is readable by others: chmod 600 it"));
  }
  AuditLog::Options log;
  log.dir = options.dir;
  log.max_file_bytes = options.max_file_bytes;
  log.max_files = options.max_files;
  log.max_age = options.max_age;
  log.key = *std::move(key);
  log.checkpoint_path = options.checkpoint_file;
  log.checkpoint_interval = options.checkpoint_interval;
  log.env = options.env;
  if (observer != nullptr) {
    Metrics* metrics = observer->metrics();
    log.on_write_failure = [metrics] { metrics->CountAuditWriteFailure(); };
    log.on_checkpoint = [metrics](uint64_t seq) {
      metrics->SetAuditCheckpoint(seq);
    };
  }
  auto opened = AuditLog::Open(log);
  if (!opened.ok()) return opened.status();
  return std::unique_ptr<AuditSink>(
      new AuditSink(*std::move(opened), observer));
}

void AuditSink::Record(const CallRecord& r,
                       std::function<void(absl::Status)> done) {
  const std::map<std::string, uint64_t> per_group =
      MetricsObserver::CandidatesPerGroup(r.search_response);
  if (observer_ != nullptr) observer_->OnCall(r, per_group);
  // The call's count and duration once its answer is known: the audit
  // record durable (the call's own status) or not (UNAVAILABLE).
  log_->Append(
      AuditRecordOf(r, per_group),
      [done = std::move(done), observer = observer_, rpc = r.rpc,
       start = r.start,
       code = r.status.code()](absl::StatusOr<uint64_t> appended) {
        const absl::StatusCode answered =
            appended.ok() ? code : absl::StatusCode::kUnavailable;
        if (observer != nullptr) observer->OnAnswered(rpc, answered, start);
        if (appended.ok()) return done(absl::OkStatus());
        LogError(absl::StrCat("audit record not written, call refused: ",
                              appended.status().message()));
        done(absl::UnavailableError(absl::StrCat(
            "the audit log cannot record this call, so it is refused: ",
            appended.status().message())));
      });
}

AuditRecord AuditSink::AuditRecordOf(
    const CallRecord& r, const std::map<std::string, uint64_t>& per_group) {
  AuditRecord a;
  a.start_time = r.start;
  a.end_time = r.end;
  a.operation = r.rpc;
  a.identity = r.caller.identity;
  a.peer = r.caller.peer;
  a.forwarded_by = r.caller.forwarded_by;
  a.details = r.details;
  a.purpose = r.purpose;
  a.gallery = r.gallery;
  a.gallery_version = r.gallery_version;
  a.probe_count = static_cast<uint32_t>(std::max(0, r.probes));
  a.status_code = r.status.code();
  a.status_message = std::string(r.status.message());
  if (r.decision) {
    a.threshold = r.decision->threshold;
    a.threshold_source =
        r.decision->source == v1::ThresholdReport::POLICY ? "policy" : "request";
    a.verdict = r.decision->verdict;
  } else if (IsPolicyRejection(r.status)) {
    // A policy rejection: the verdict is the refusal itself.
    Verdict verdict;
    verdict.outcome = VerdictOutcome::kReject;
    verdict.violations.push_back(std::string(r.status.message()));
    a.verdict = verdict;
    if (r.search_request && r.search_request->has_threshold()) {
      a.threshold = r.search_request->threshold();
      a.threshold_source = "request";
    }
  }
  a.candidates_per_group = per_group;
  if (r.search_response) {
    a.matched_entry_ids.reserve(r.search_response->results_size());
    for (const auto& result : r.search_response->results()) {
      std::vector<EntryId> ids;
      ids.reserve(result.candidates_size());
      for (const auto& c : result.candidates()) ids.push_back(c.entry_id());
      a.matched_entry_ids.push_back(std::move(ids));
    }
  } else if (!r.entry_ids.empty()) {
    a.matched_entry_ids.push_back(r.entry_ids);
  }
  return a;
}

std::vector<QuarantineRecord> AuditSink::Sealed() const {
  std::vector<QuarantineRecord> out;
  for (const AuditLog::SealedFile& f : log_->sealed()) {
    out.push_back({f.kind, f.name, f.path, f.reason, f.at_us});
  }
  return out;
}

}  // namespace candor::telemetry
