// What the metrics registry learns, in both roles: each finished call
// (requests, probes, stage latencies, thresholds, candidates per group),
// each verdict and policy threshold, each index batch (candor_batch_probes),
// and, at every scrape, the per-gallery gauges read from a source the role
// attaches (a server's gallery store; a router's shard aggregates).
#ifndef CANDOR_SERVER_TELEMETRY_METRICS_OBSERVER_H_
#define CANDOR_SERVER_TELEMETRY_METRICS_OBSERVER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/batching/batcher_options.h"
#include "server/telemetry/call_record.h"
#include "server/telemetry/calibration_store.h"
#include "server/telemetry/metrics.h"
#include "server/telemetry/report.h"

namespace candor::telemetry {

// One gallery's gauges as a scrape reads them.
struct GalleryGauges {
  std::string name;
  uint64_t entries = 0;
  uint64_t host_bytes = 0;
  uint64_t device_bytes = 0;
  uint64_t erasure_backlog = 0;
  uint64_t compaction_failures = 0;
  // "fp32" or "bf16".
  std::string precision = "fp32";
  // Live entries per group ("" = unlabeled).
  std::map<std::string, uint64_t> groups;
};

// Where scrapes read what the role holds. Any member may be empty.
struct GaugeSource {
  // Every gallery, now.
  std::function<std::vector<GalleryGauges>()> galleries;
  // One gallery's live entries per group; empty map when it is unknown.
  std::function<std::map<std::string, uint64_t>(const std::string&)> groups;
  // The search queue now: requests, probes.
  std::function<void(int64_t* requests, int64_t* probes)> queue;
};

// The label of groups beyond --metrics_max_groups.
inline constexpr char kOtherGroup[] = "other";

class MetricsObserver : public batching::BatchObserver {
 public:
  // Neither pointer is owned. Each gallery's series name its `max_groups`
  // largest groups, the rest as "other". Becomes the registry's collect
  // hook: destroy the registry (its HTTP thread scrapes) before this.
  MetricsObserver(Metrics* metrics, const CalibrationStore* calibrations,
                  int max_groups);
  ~MetricsObserver() override;

  Metrics* metrics() const { return metrics_; }

  // A finished call, before its audit record is written. `per_group`:
  // candidates returned per group (CandidatesPerGroup).
  void OnCall(const CallRecord& record,
              const std::map<std::string, uint64_t>& per_group);
  // The call's answer, once known (its status, or UNAVAILABLE when its
  // audit record could not be written).
  void OnAnswered(const std::string& rpc, absl::StatusCode code,
                  absl::Time start);
  void OnVerdict(VerdictOutcome outcome);
  // candor_policy_fpir_ratio{gallery, group} and the policy threshold: FPIR
  // per group at the policy threshold (extrapolated when stale); groups
  // beyond the cap as "other", with the highest FPIR among them.
  void OnPolicyThreshold(const std::string& gallery,
                         const ThresholdReport& report);
  void ForgetGallery(const std::string& name);

  // candor_batch_probes.
  void OnBatch(const batching::BatchEvent& event) override;

  // Scrapes read `source` from now on (gauges, group caps, queue).
  void Attach(GaugeSource source);
  // Scrapes stop reading it; waits for one that is.
  void Detach();

  // The `group` label of `group` in `gallery`'s series.
  std::string GroupLabel(const std::string& gallery, const std::string& group);

  // Candidates returned per candidate group ("" = unlabeled).
  static std::map<std::string, uint64_t> CandidatesPerGroup(
      const v1::SearchResponse* response);

 private:
  struct TopGroups {
    absl::Time at;
    std::set<std::string> groups;
  };
  static constexpr absl::Duration kGroupsMaxAge = absl::Seconds(10);

  // Before each scrape.
  void Collect();

  Metrics* const metrics_;
  const CalibrationStore* const calibrations_;
  const int max_groups_;
  absl::Mutex source_mu_;
  GaugeSource source_ ABSL_GUARDED_BY(source_mu_);
  absl::Mutex groups_mu_;
  std::map<std::string, TopGroups> top_groups_ ABSL_GUARDED_BY(groups_mu_);
};

// The first `max_groups` groups by live entries (ties by name).
std::set<std::string> LargestGroups(
    const std::map<std::string, uint64_t>& groups, int max_groups);

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_METRICS_OBSERVER_H_
