#include "server/edge/common_flags.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/telemetry/policy.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "gRPC address to serve on (host:port; port 0 picks a free one)");
ABSL_FLAG(std::string, data_dir, "./candor-data",
          "directory holding galleries (snapshots + write-ahead logs), "
          "calibrations and the audit log");
ABSL_FLAG(int, max_batch, 4096, "most rows in one Search or Enroll request");
ABSL_FLAG(int, max_top_k, 1000, "most candidates per probe a request may ask");
ABSL_FLAG(int, max_message_bytes, 64 << 20,
          "largest gRPC message accepted or sent, bytes");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464",
          "Prometheus /metrics address; empty disables the endpoint");
ABSL_FLAG(int, metrics_max_groups, 20,
          "per gallery, the largest groups (by entries) labelled by name in "
          "metrics; the rest are counted as group=\"other\"");
ABSL_FLAG(std::string, audit_dir, "",
          "audit log directory (default: <data-dir>/audit)");
ABSL_FLAG(int64_t, audit_max_file_mb, 64,
          "audit log file size (MiB) past which a new file begins");
ABSL_FLAG(int, audit_max_files, 0,
          "audit files kept (oldest deleted first; 0 = keep all)");
ABSL_FLAG(int, audit_retention_days, 0,
          "audit files older than this are deleted (0 = keep all)");
ABSL_FLAG(std::string, min_threshold, "",
          "policy: lowest threshold a request may use (empty = none)");
ABSL_FLAG(std::string, max_fpir, "",
          "policy: highest FPIR any group may have at the threshold used; "
          "also defines the policy threshold (empty = none)");
ABSL_FLAG(std::string, max_disparity, "",
          "policy: highest max/min FPIR ratio between groups (empty = none)");
ABSL_FLAG(std::string, policy_action, "reject",
          "what a policy breach does: reject (FAILED_PRECONDITION) or warn");
ABSL_FLAG(int, drain_timeout_s, 30,
          "seconds shutdown waits for in-flight calls");
ABSL_FLAG(bool, require_purpose, false,
          "refuse a Search that states no purpose (FAILED_PRECONDITION)");
ABSL_FLAG(int, max_purpose_bytes, 256,
          "longest purpose a Search may state (it is in every audit record)");
ABSL_FLAG(std::string, audit_key_file, "",
          "HMAC-SHA-256 key of the audit chain (default <data_dir>/audit.key, "
          "made on first start; keep it apart from the log, e.g. a Secret)");
ABSL_FLAG(int, audit_checkpoint_s, 60,
          "seconds between checkpoints of the audit chain's head");
ABSL_FLAG(std::string, audit_checkpoint_file, "",
          "where checkpoints go (default <data_dir>/audit-checkpoint.json)");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of this server (with --tls_key: serve TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM bundle of the CAs whose client certificates are accepted; "
          "when set, every call must bring a verified certificate or a token");
ABSL_FLAG(int, tls_refresh_s, 60,
          "seconds between reads of the TLS files (rotation without restart)");
ABSL_FLAG(bool, allow_insecure, false,
          "serve plaintext on a non-loopback --listen (only behind a sidecar "
          "that terminates mTLS)");
ABSL_FLAG(std::string, token_file, "",
          "bearer tokens: lines '<sha256 hex of token> <identity>' (TLS only)");
ABSL_FLAG(std::string, authz_policy, "",
          "gRPC authorization policy JSON: which identities may call which "
          "methods (see deploy/authz/roles.json); re-read when edited");
ABSL_FLAG(int, authz_refresh_s, 5,
          "seconds between checks of --authz_policy for edits");
ABSL_FLAG(std::string, trusted_forwarders, "",
          "comma-separated identities (routers) trusted to name the caller "
          "they forward in x-candor-forwarded-identity");
ABSL_FLAG(bool, reflection, true, "serve gRPC server reflection");
// Limits against careless or hostile clients: each refusal names its flag.
ABSL_FLAG(int, max_calibration_groups, 256,
          "most distinct group labels in one calibration (every later "
          "search reports each group)");
ABSL_FLAG(int64_t, grpc_max_memory_mb, 1024,
          "memory gRPC may use for connection and call buffers, MiB");
ABSL_FLAG(int, grpc_max_threads, 64, "most threads gRPC may run");
ABSL_FLAG(int, max_concurrent_streams, 256,
          "most concurrent calls on one client connection");
ABSL_FLAG(int, min_ping_interval_s, 60,
          "clients pinging more often without calls get strikes");
ABSL_FLAG(int, max_ping_strikes, 2,
          "strikes after which a pinging connection is closed");
ABSL_FLAG(int, max_connection_idle_s, 300,
          "a connection without calls for this long is closed");
ABSL_FLAG(int, max_connection_age_s, 7200,
          "every connection is closed after this long (clients reconnect)");
ABSL_FLAG(int, max_connection_age_grace_s, 60,
          "time calls on a connection past --max_connection_age may finish");
ABSL_FLAG(int, handshake_timeout_s, 10,
          "a connection that has not completed its handshake by then is "
          "closed");
ABSL_FLAG(int, reserved_fds, 256,
          "file descriptors kept free of network connections for data files; "
          "a connection accepted above the fd limit minus this is closed");
ABSL_FLAG(int, metrics_max_connections, 32,
          "most open connections to /metrics");
ABSL_FLAG(int, metrics_connection_timeout_s, 10,
          "a /metrics connection idle this long is closed");
// The router's own: where its shards are and how it calls them. Defined
// here with the flags both roles read, so that one file holds every flag
// but the server's own (server/api/flags.cc); RouterOptionsFromFlags
// (server/router/router_options.h) reads them.
ABSL_FLAG(std::string, shards, "",
          "router: shard addresses host:port,host:port,... in placement "
          "order (the same order in every router, always)");
ABSL_FLAG(std::string, shards_dns, "",
          "router: NAME:PORT of the shards' headless Service; shard i is "
          "NAME-i.NAME (a StatefulSet's stable pod names)");
ABSL_FLAG(int, shard_count, 0,
          "router with --shards_dns: wait until exactly this many shard "
          "names resolve (0 = until two resolutions agree)");
ABSL_FLAG(int, shard_timeout_ms, 30000,
          "router: longest wait for one shard's answer; a shard past it is "
          "UNAVAILABLE (named)");
ABSL_FLAG(std::string, shard_tls_ca, "",
          "router: PEM bundle of the CAs that signed the shards' "
          "certificates; the router calls shards over mTLS with its own "
          "--tls_cert/--tls_key (the shards list it in --trusted_forwarders)");

namespace candor::api {
namespace {

template <typename T>
absl::Status ParseOptional(const std::string& flag, const std::string& text,
                           std::optional<T>* out) {
  if (text.empty()) return absl::OkStatus();
  double value = 0;
  if (!absl::SimpleAtod(text, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": '", text, "' is not a number"));
  }
  *out = static_cast<T>(value);
  return absl::OkStatus();
}

absl::Status PolicyFromFlags(PolicyDefaults* policy) {
  absl::Status s = ParseOptional(
      "min_threshold", absl::GetFlag(FLAGS_min_threshold), &policy->min_threshold);
  if (!s.ok()) return s;
  s = ParseOptional("max_fpir", absl::GetFlag(FLAGS_max_fpir),
                    &policy->max_fpir);
  if (!s.ok()) return s;
  s = ParseOptional("max_disparity", absl::GetFlag(FLAGS_max_disparity),
                    &policy->max_disparity);
  if (!s.ok()) return s;
  const std::string action = absl::GetFlag(FLAGS_policy_action);
  if (action == "reject") {
    policy->action = telemetry::PolicyAction::kReject;
  } else if (action == "warn") {
    policy->action = telemetry::PolicyAction::kWarn;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--policy_action: '", action, "': expected reject or warn"));
  }
  policy->require_purpose = absl::GetFlag(FLAGS_require_purpose);
  return absl::OkStatus();
}

absl::Status AuditFromFlags(ServerOptions* options) {
  options->audit_dir = absl::GetFlag(FLAGS_audit_dir);
  if (options->audit_dir.empty()) {
    options->audit_dir = options->store.data_dir + "/audit";
  }
  AuditOptions& audit = options->audit;
  audit.max_file_bytes =
      static_cast<uint64_t>(absl::GetFlag(FLAGS_audit_max_file_mb)) << 20;
  audit.max_files = absl::GetFlag(FLAGS_audit_max_files);
  audit.max_age = absl::Hours(24) * absl::GetFlag(FLAGS_audit_retention_days);
  if (absl::GetFlag(FLAGS_audit_max_file_mb) <= 0 || audit.max_files < 0 ||
      absl::GetFlag(FLAGS_audit_retention_days) < 0) {
    return absl::InvalidArgumentError(
        "--audit_max_file_mb must be positive; --audit_max_files and "
        "--audit_retention_days must be >= 0");
  }
  audit.key_file = absl::GetFlag(FLAGS_audit_key_file);
  audit.checkpoint_file = absl::GetFlag(FLAGS_audit_checkpoint_file);
  audit.checkpoint_interval =
      absl::Seconds(absl::GetFlag(FLAGS_audit_checkpoint_s));
  return PositiveFlag("audit_checkpoint_s",
                      absl::GetFlag(FLAGS_audit_checkpoint_s));
}

void SecurityFromFlags(security::SecurityOptions* sec) {
  sec->tls_cert = absl::GetFlag(FLAGS_tls_cert);
  sec->tls_key = absl::GetFlag(FLAGS_tls_key);
  sec->tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  sec->tls_refresh_s = absl::GetFlag(FLAGS_tls_refresh_s);
  sec->allow_insecure = absl::GetFlag(FLAGS_allow_insecure);
  sec->token_file = absl::GetFlag(FLAGS_token_file);
  sec->authz_policy = absl::GetFlag(FLAGS_authz_policy);
  sec->authz_refresh_s = absl::GetFlag(FLAGS_authz_refresh_s);
  sec->reflection = absl::GetFlag(FLAGS_reflection);
  sec->trusted_forwarders.clear();
  for (absl::string_view id : absl::StrSplit(
           absl::GetFlag(FLAGS_trusted_forwarders), ',', absl::SkipEmpty())) {
    sec->trusted_forwarders.emplace_back(id);
  }
}

// The gRPC server's and /metrics' limits against clients that hold
// connections and never use them.
void ConnectionLimitsFromFlags(ServerOptions* options) {
  GrpcLimitOptions& grpc = options->grpc;
  grpc.memory_bytes = absl::GetFlag(FLAGS_grpc_max_memory_mb) << 20;
  grpc.max_threads = absl::GetFlag(FLAGS_grpc_max_threads);
  grpc.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  grpc.min_ping_interval =
      absl::Seconds(absl::GetFlag(FLAGS_min_ping_interval_s));
  grpc.max_ping_strikes = absl::GetFlag(FLAGS_max_ping_strikes);
  grpc.max_connection_idle =
      absl::Seconds(absl::GetFlag(FLAGS_max_connection_idle_s));
  grpc.max_connection_age =
      absl::Seconds(absl::GetFlag(FLAGS_max_connection_age_s));
  grpc.max_connection_age_grace =
      absl::Seconds(absl::GetFlag(FLAGS_max_connection_age_grace_s));
  grpc.handshake_timeout =
      absl::Seconds(absl::GetFlag(FLAGS_handshake_timeout_s));
  grpc.reserved_fds = absl::GetFlag(FLAGS_reserved_fds);
  options->metrics_http.max_connections =
      absl::GetFlag(FLAGS_metrics_max_connections);
  options->metrics_http.connection_timeout =
      absl::Seconds(absl::GetFlag(FLAGS_metrics_connection_timeout_s));
}

}  // namespace

absl::Status PositiveFlag(const char* flag, int64_t value) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": must be positive, got ", value));
}

absl::Status CommonOptionsFromFlags(ServerOptions* options) {
  options->listen = absl::GetFlag(FLAGS_listen);
  options->metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options->metrics_max_groups = absl::GetFlag(FLAGS_metrics_max_groups);
  options->store.data_dir = absl::GetFlag(FLAGS_data_dir);
  LimitOptions& limits = options->limits;
  limits.max_batch = absl::GetFlag(FLAGS_max_batch);
  limits.max_top_k = absl::GetFlag(FLAGS_max_top_k);
  limits.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  limits.max_purpose_bytes = absl::GetFlag(FLAGS_max_purpose_bytes);
  limits.max_calibration_groups = absl::GetFlag(FLAGS_max_calibration_groups);
  options->drain_timeout = absl::Seconds(absl::GetFlag(FLAGS_drain_timeout_s));
  ConnectionLimitsFromFlags(options);
  for (const auto& [name, value] :
       {std::pair<const char*, int64_t>{"max_batch", limits.max_batch},
        {"max_top_k", limits.max_top_k},
        {"max_message_bytes", limits.max_message_bytes},
        {"max_purpose_bytes", limits.max_purpose_bytes},
        {"max_calibration_groups", limits.max_calibration_groups},
        {"metrics_max_groups", options->metrics_max_groups},
        {"drain_timeout_s", absl::GetFlag(FLAGS_drain_timeout_s)},
        {"tls_refresh_s", absl::GetFlag(FLAGS_tls_refresh_s)},
        {"authz_refresh_s", absl::GetFlag(FLAGS_authz_refresh_s)},
        {"grpc_max_memory_mb", absl::GetFlag(FLAGS_grpc_max_memory_mb)},
        {"grpc_max_threads", options->grpc.max_threads},
        {"max_concurrent_streams", options->grpc.max_concurrent_streams},
        {"min_ping_interval_s", absl::GetFlag(FLAGS_min_ping_interval_s)},
        {"max_ping_strikes", options->grpc.max_ping_strikes},
        {"max_connection_idle_s", absl::GetFlag(FLAGS_max_connection_idle_s)},
        {"max_connection_age_s", absl::GetFlag(FLAGS_max_connection_age_s)},
        {"max_connection_age_grace_s",
         absl::GetFlag(FLAGS_max_connection_age_grace_s)},
        {"handshake_timeout_s", absl::GetFlag(FLAGS_handshake_timeout_s)},
        {"reserved_fds", options->grpc.reserved_fds},
        {"metrics_max_connections", options->metrics_http.max_connections},
        {"metrics_connection_timeout_s",
         absl::GetFlag(FLAGS_metrics_connection_timeout_s)}}) {
    absl::Status s = PositiveFlag(name, value);
    if (!s.ok()) return s;
  }
  absl::Status s = PolicyFromFlags(&options->policy);
  if (!s.ok()) return s;
  s = AuditFromFlags(options);
  if (!s.ok()) return s;
  SecurityFromFlags(&options->security);
  return absl::OkStatus();
}

}  // namespace candor::api
