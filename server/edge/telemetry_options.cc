#include "server/edge/telemetry_options.h"

#include "absl/time/time.h"

namespace candor::api {

telemetry::Metrics::Options MetricsOptionsFor(const ServerOptions& options) {
  telemetry::Metrics::Options metrics;
  metrics.listen_address = options.metrics_listen;
  metrics.max_connections = options.metrics_http.max_connections;
  metrics.connection_timeout_s = static_cast<int>(
      absl::ToInt64Seconds(options.metrics_http.connection_timeout));
  return metrics;
}

telemetry::Policy FromPolicyDefaults(const PolicyDefaults& defaults) {
  telemetry::Policy p;
  p.min_threshold = defaults.min_threshold;
  p.max_fpir = defaults.max_fpir;
  p.max_disparity = defaults.max_disparity;
  p.action = defaults.action;
  return p;
}

telemetry::TelemetryOptions TelemetryOptionsFor(
    const ServerOptions& options, const std::string& calibration_dir,
    const std::string& how_to_calibrate) {
  telemetry::TelemetryOptions t;
  t.calibration_dir = calibration_dir;
  t.policy.floor = FromPolicyDefaults(options.policy);
  t.policy.how_to_calibrate = how_to_calibrate;
  t.metrics = MetricsOptionsFor(options);
  t.metrics_max_groups = options.metrics_max_groups;
  const std::string& data_dir = options.store.data_dir;
  t.audit.dir = options.audit_dir;
  t.audit.key_file = options.audit.key_file.empty() ? data_dir + "/audit.key"
                                                    : options.audit.key_file;
  t.audit.checkpoint_file = options.audit.checkpoint_file.empty()
                                ? data_dir + "/audit-checkpoint.json"
                                : options.audit.checkpoint_file;
  t.audit.max_file_bytes = options.audit.max_file_bytes;
  t.audit.max_files = options.audit.max_files;
  t.audit.max_age = options.audit.max_age;
  t.audit.checkpoint_interval = options.audit.checkpoint_interval;
  return t;
}

}  // namespace candor::api
