// What telemetry learns of one call, in both roles: the threshold decided
// before a search, and the finished call (for metrics and the audit log).
#ifndef CANDOR_SERVER_TELEMETRY_CALL_RECORD_H_
#define CANDOR_SERVER_TELEMETRY_CALL_RECORD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "candor/v1/candor.pb.h"
#include "server/common/types.h"
#include "server/security/identity.h"
#include "server/telemetry/audit_chain.h"
#include "server/telemetry/verdict.h"

namespace candor::telemetry {

// The threshold a search runs at, decided before it runs.
struct ThresholdDecision {
  float threshold = 0.0f;
  v1::ThresholdReport::Source source = v1::ThresholdReport::REQUEST;
  // The cost report at that threshold, verdict included (WARN or PASS; a
  // REJECT never gets here, it is the error instead). The search moves it
  // into its response.
  v1::ThresholdReport report;
  // The same verdict, for the audit log.
  Verdict verdict;
};

// What the audit log and metrics learn of one finished RPC.
struct CallRecord {
  std::string rpc;  // the method's short name: "Search", "SetPolicy", ...
  security::Caller caller;
  std::string purpose;
  std::string gallery;
  uint64_t gallery_version = 0;
  absl::Time start;
  absl::Time end;
  absl::Status status;
  int probes = 0;
  // Search only.
  const v1::SearchRequest* search_request = nullptr;
  const v1::SearchResponse* search_response = nullptr;
  const ThresholdDecision* decision = nullptr;
  absl::Duration queue_time;
  // The check alone where the index normalizes on the device (its work is
  // then part of search_time).
  absl::Duration normalize_time;
  absl::Duration search_time;
  absl::Duration telemetry_time;
  // Enroll / Remove: the entry ids touched, and the gallery's size after
  // (-1 when unknown).
  std::vector<EntryId> entry_ids;
  int64_t gallery_size = -1;
  // What else the call touched, for the audit record: counts, the policy
  // before and after a SetPolicy, ... Never an embedding.
  AuditJson details = AuditJson::object();
};

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_CALL_RECORD_H_
