// The outcome of checking a request against the operator's policy.
#ifndef CANDOR_SERVER_TELEMETRY_VERDICT_H_
#define CANDOR_SERVER_TELEMETRY_VERDICT_H_

#include <string>
#include <vector>

namespace candor::telemetry {

enum class VerdictOutcome {
  kPass,      // no policy constraint is broken
  kWarn,      // broken, action warn: answered anyway
  kReject,    // broken, action reject
  kNoPolicy,  // no policy constraint is configured
};

// "pass", "warn", "reject", "no_policy": metric labels and audit records.
const char* VerdictOutcomeName(VerdictOutcome outcome);

struct Verdict {
  VerdictOutcome outcome = VerdictOutcome::kNoPolicy;
  // One human-readable line per broken constraint, with the numbers.
  std::vector<std::string> violations;
};

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_VERDICT_H_
