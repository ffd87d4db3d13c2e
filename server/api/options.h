// The server's configuration: one nested struct per concern, in-class
// defaults, units in the names. Filled from flags in one place (flags.cc).
#ifndef CANDOR_SERVER_API_OPTIONS_H_
#define CANDOR_SERVER_API_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "server/batching/batcher_options.h"
#include "server/gallery/gallery_store.h"
#include "server/index/index_factory.h"
#include "server/security/security_options.h"
#include "server/telemetry/policy.h"

namespace candor::api {

struct LimitOptions {
  // Most rows in one Search or Enroll request.
  int max_batch = 4096;
  // Most candidates per probe a request may ask for.
  int max_top_k = 1000;
  // gRPC refuses larger messages with RESOURCE_EXHAUSTED. 64 MiB holds a
  // 4096 x 4096 float32 batch.
  int max_message_bytes = 64 << 20;
  // Longest `purpose` a search may state (it lands in every audit record).
  int max_purpose_bytes = 256;
  // Distinct group labels one calibration may carry. Every later search's
  // report has one entry per group, so the cap bounds their cost too.
  int max_calibration_groups = 256;
  // Galleries one server holds (each keeps files, and an fd, open).
  int max_galleries = 256;
  // Live entries, and bytes of vectors (entries x dimension x 4), one
  // gallery may hold; an Enroll that would pass either is refused whole.
  int64_t max_gallery_entries = 50'000'000;
  int64_t max_gallery_bytes = int64_t{16} << 30;
};

// The gRPC server's own limits (both roles), against clients that open
// connections and streams and never use them.
struct GrpcLimitOptions {
  // Memory gRPC may use for its buffers (ResourceQuota), and its threads.
  int64_t memory_bytes = int64_t{1} << 30;
  int max_threads = 64;
  // Concurrent calls per connection.
  int max_concurrent_streams = 256;
  // A client pinging more often than this without calls in flight gets
  // strikes; at max_ping_strikes its connection is closed (GOAWAY).
  absl::Duration min_ping_interval = absl::Seconds(60);
  int max_ping_strikes = 2;
  // A connection without calls for this long is closed; every connection
  // is closed after max_connection_age (plus the grace for calls still
  // running), so that clients rebalance and none is held forever.
  absl::Duration max_connection_idle = absl::Minutes(5);
  absl::Duration max_connection_age = absl::Hours(2);
  absl::Duration max_connection_age_grace = absl::Minutes(1);
  // A connection that has not finished its HTTP/2 (and TLS) handshake by
  // then is closed: a raw TCP connection holds its fd only this long.
  absl::Duration handshake_timeout = absl::Seconds(10);
  // File descriptors kept free of network connections (for WAL segments,
  // snapshots, the audit log): a connection accepted above the fd limit
  // minus this is closed at once (server/api/accept_guard.h).
  int reserved_fds = 256;
};

// The /metrics HTTP endpoint's limits.
struct MetricsHttpOptions {
  // Open connections at once; more wait or are closed.
  int max_connections = 32;
  // A connection idle (no request, or a request not read) this long is
  // closed.
  absl::Duration connection_timeout = absl::Seconds(10);
};

struct PolicyDefaults {
  std::optional<float> min_threshold;
  std::optional<double> max_fpir;
  std::optional<double> max_disparity;
  // What a breach does (--policy_action).
  telemetry::PolicyAction action = telemetry::PolicyAction::kReject;
  // A search that states no purpose is refused (FAILED_PRECONDITION).
  bool require_purpose = false;
};

// The dynamic batcher as the server runs it: the batcher's own defaults
// (server/batching/batcher_options.h says what each field does), with two
// workers: a gallery runs one batch at a time (its index call, BLAS,
// already uses every core), so the second serves the other galleries while
// a slow one runs.
inline batching::BatcherOptions ServerBatchingDefaults() {
  batching::BatcherOptions options;
  options.worker_threads = 2;
  return options;
}

// Threads for the RPC work that blocks, so that it never runs on gRPC's
// callback threads (which health checks and every other call share).
struct BlockingOptions {
  // Enroll, Remove, CreateGallery, SetPolicy: short waits on a WAL or
  // manifest fsync. Enough threads that concurrent writes share a commit.
  int write_threads = 16;
  // Calibrate, CompactGallery, DeleteGallery, TrainIndex: long work, on
  // threads of their own so that it cannot hold writes up.
  int maintenance_threads = 2;
  // Calls waiting for a thread, per pool; one more is refused with
  // RESOURCE_EXHAUSTED.
  int max_queue = 256;
};

struct AuditOptions {
  // A file past this size is closed and a new one begun (the hash chain
  // continues across files).
  uint64_t max_file_bytes = uint64_t{64} << 20;
  // Retention: keep at most this many files (0 = all) and none older than
  // max_age (zero = no limit). The oldest whole files go first.
  int max_files = 0;
  absl::Duration max_age = absl::ZeroDuration();
  // The HMAC key of the record chain. Empty: <data_dir>/audit.key, made on
  // first start (0600).
  std::string key_file;
  // Where the chain's head (sequence, hash) is written every
  // checkpoint_interval; empty: <data_dir>/audit-checkpoint.json. Keep a
  // copy elsewhere to detect a truncated tail.
  std::string checkpoint_file;
  absl::Duration checkpoint_interval = absl::Seconds(60);
};

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";
  std::string metrics_listen = "127.0.0.1:9464";
  // Per gallery, the largest groups (by live entries) that get their own
  // `group` label in metrics; the rest are counted as "other".
  int metrics_max_groups = 20;
  MetricsHttpOptions metrics_http;
  // Empty: <data_dir>/audit.
  std::string audit_dir;
  // Threads one search's GEMM runs on: the cpu-flat index's workers, and
  // OpenBLAS's thread count under FAISS (whose OpenMP stays at one thread).
  int gemm_threads = 2;
  index::Backend backend = index::Backend::kAuto;
  gallery::StoreOptions store;
  LimitOptions limits;
  PolicyDefaults policy;
  batching::BatcherOptions batching = ServerBatchingDefaults();
  AuditOptions audit;
  security::SecurityOptions security;
  GrpcLimitOptions grpc;
  BlockingOptions blocking;
  // How long shutdown waits for in-flight calls before cancelling them.
  absl::Duration drain_timeout = absl::Seconds(30);
};

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_OPTIONS_H_
