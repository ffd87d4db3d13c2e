// The telemetry units' options from the server's options, alike for both
// roles: the policy floor from the policy flags, the /metrics endpoint,
// and the audit log under data_dir unless flags say otherwise.
#ifndef CANDOR_SERVER_EDGE_TELEMETRY_OPTIONS_H_
#define CANDOR_SERVER_EDGE_TELEMETRY_OPTIONS_H_

#include <string>

#include "server/api/options.h"
#include "server/telemetry/metrics.h"
#include "server/telemetry/policy.h"
#include "server/telemetry/telemetry_units.h"

namespace candor::api {

// The metrics registry's options from the server's: the /metrics address,
// its connection cap and idle timeout (both roles).
telemetry::Metrics::Options MetricsOptionsFor(const ServerOptions& options);
// The server's policy flags as a policy.
telemetry::Policy FromPolicyDefaults(const PolicyDefaults& defaults);
// The telemetry units' options from the server's (both roles): the policy
// floor, metrics, and the audit log under data_dir unless flags say
// otherwise. `calibration_dir`: where calibrations are kept ("" = memory).
telemetry::TelemetryOptions TelemetryOptionsFor(
    const ServerOptions& options, const std::string& calibration_dir,
    const std::string& how_to_calibrate);

}  // namespace candor::api

#endif  // CANDOR_SERVER_EDGE_TELEMETRY_OPTIONS_H_
