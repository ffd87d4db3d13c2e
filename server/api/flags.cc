#include "server/api/flags.h"

#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "server/edge/common_flags.h"

namespace {
constexpr int kDefaultGemmThreads = 2;
}  // namespace

ABSL_FLAG(int, gemm_threads, kDefaultGemmThreads,
          "threads one search's GEMM runs on (the CPU's hot path): the "
          "cpu-flat index's workers, each a single-threaded GEMM over its "
          "own tiles, and OpenBLAS's thread count under the FAISS backends "
          "(whose OpenMP stays at one thread)");
ABSL_FLAG(int, threads, 0,
          "deprecated: the old name of --gemm_threads (0 = not given)");
ABSL_FLAG(std::string, backend, "auto",
          "index backend: auto (GPU when a device is present), cpu, "
          "faiss-gpu, gpu");
ABSL_FLAG(std::string, batching, "on",
          "dynamic batching of concurrent searches: on or off");
ABSL_FLAG(int, max_batch_probes, 1024,
          "most probes the batcher coalesces into one index call");
ABSL_FLAG(int64_t, max_queue_delay_us, 0,
          "longest a search waits for others to batch with (0 = none)");
ABSL_FLAG(int, max_queue_requests, 4096,
          "queued searches beyond which new ones get RESOURCE_EXHAUSTED");
ABSL_FLAG(int, compaction_delay_s, 60,
          "seconds after a removal by which the gallery is compacted (and "
          "the removed vectors erased from disk)");
ABSL_FLAG(int, max_galleries, 256, "most galleries this server holds");
ABSL_FLAG(int64_t, max_gallery_entries, 50'000'000,
          "most live entries in one gallery");
ABSL_FLAG(int64_t, max_gallery_bytes, int64_t{16} << 30,
          "most bytes of vectors (entries x dimension x 4) in one gallery");
ABSL_FLAG(int64_t, max_queued_bytes, int64_t{1} << 30,
          "bytes of probes waiting for the batcher beyond which new searches "
          "get RESOURCE_EXHAUSTED");
ABSL_FLAG(int, write_threads, 16,
          "threads for Enroll, Remove, CreateGallery and SetPolicy (they wait "
          "on an fsync; never on gRPC's own threads)");
ABSL_FLAG(int, maintenance_threads, 2,
          "threads for Calibrate, CompactGallery, DeleteGallery and "
          "TrainIndex (long work, apart from the writes)");
ABSL_FLAG(int, blocking_queue, 256,
          "calls that may wait for a write or maintenance thread, per pool; "
          "one more is refused with RESOURCE_EXHAUSTED");

namespace candor::api {
namespace {

// --gemm_threads, or the value of its old name --threads when only that is
// given (deployments that still pass it keep their thread count).
absl::StatusOr<int> GemmThreadsFromFlags() {
  const int gemm_threads = absl::GetFlag(FLAGS_gemm_threads);
  const int old_name = absl::GetFlag(FLAGS_threads);
  if (old_name == 0) return gemm_threads;
  if (gemm_threads != kDefaultGemmThreads && gemm_threads != old_name) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--threads=", old_name, " is the old name of --gemm_threads=",
        gemm_threads, ": give --gemm_threads only"));
  }
  return old_name;
}

// The threads blocking RPC work runs on: at least one each; the queue may
// be empty (a call then needs an idle thread).
absl::Status BlockingFromFlags(ServerOptions* options) {
  BlockingOptions& blocking = options->blocking;
  blocking.write_threads = absl::GetFlag(FLAGS_write_threads);
  blocking.maintenance_threads = absl::GetFlag(FLAGS_maintenance_threads);
  blocking.max_queue = absl::GetFlag(FLAGS_blocking_queue);
  absl::Status s = PositiveFlag("write_threads", blocking.write_threads);
  if (s.ok()) {
    s = PositiveFlag("maintenance_threads", blocking.maintenance_threads);
  }
  if (s.ok() && blocking.max_queue < 0) {
    s = absl::InvalidArgumentError(absl::StrCat(
        "--blocking_queue: must be >= 0, got ", blocking.max_queue));
  }
  return s;
}

absl::Status BatchingFromFlags(batching::BatcherOptions* batching) {
  const std::string mode = absl::GetFlag(FLAGS_batching);
  if (mode != "on" && mode != "off") {
    return absl::InvalidArgumentError(
        absl::StrCat("--batching: '", mode, "': expected on or off"));
  }
  batching->enabled = mode == "on";
  batching->max_batch_probes = absl::GetFlag(FLAGS_max_batch_probes);
  batching->max_queue_delay_us = absl::GetFlag(FLAGS_max_queue_delay_us);
  if (batching->max_queue_delay_us < 0) {
    return absl::InvalidArgumentError("--max_queue_delay_us: must be >= 0");
  }
  batching->max_queue_requests = absl::GetFlag(FLAGS_max_queue_requests);
  batching->max_queued_bytes = absl::GetFlag(FLAGS_max_queued_bytes);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServerOptions> OptionsFromFlags() {
  ServerOptions options;
  absl::Status s = CommonOptionsFromFlags(&options);
  if (!s.ok()) return s;
  auto gemm_threads = GemmThreadsFromFlags();
  if (!gemm_threads.ok()) return gemm_threads.status();
  options.gemm_threads = *gemm_threads;
  auto backend = index::ParseBackend(absl::GetFlag(FLAGS_backend));
  if (!backend.ok()) return backend.status();
  options.backend = *backend;
  s = BatchingFromFlags(&options.batching);
  if (!s.ok()) return s;
  options.store.gallery.compaction_delay =
      absl::Seconds(absl::GetFlag(FLAGS_compaction_delay_s));
  LimitOptions& limits = options.limits;
  limits.max_galleries = absl::GetFlag(FLAGS_max_galleries);
  limits.max_gallery_entries = absl::GetFlag(FLAGS_max_gallery_entries);
  limits.max_gallery_bytes = absl::GetFlag(FLAGS_max_gallery_bytes);
  for (const auto& [name, value] :
       {std::pair<const char*, int64_t>{"gemm_threads", options.gemm_threads},
        {"max_batch_probes", options.batching.max_batch_probes},
        {"max_queue_requests", options.batching.max_queue_requests},
        {"max_queued_bytes", options.batching.max_queued_bytes},
        {"compaction_delay_s", absl::GetFlag(FLAGS_compaction_delay_s)},
        {"max_galleries", limits.max_galleries},
        {"max_gallery_entries", limits.max_gallery_entries},
        {"max_gallery_bytes", limits.max_gallery_bytes}}) {
    s = PositiveFlag(name, value);
    if (!s.ok()) return s;
  }
  s = BlockingFromFlags(&options);
  if (!s.ok()) return s;
  return options;
}

}  // namespace candor::api
