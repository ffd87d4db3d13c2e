#include "server/telemetry/metrics_observer.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"

namespace candor::telemetry {
namespace {

Metrics::Stage StageOf(int i) { return static_cast<Metrics::Stage>(i); }

}  // namespace

std::set<std::string> LargestGroups(
    const std::map<std::string, uint64_t>& groups, int max_groups) {
  std::vector<std::pair<uint64_t, std::string>> by_size;
  for (const auto& [group, n] : groups) by_size.emplace_back(n, group);
  std::sort(by_size.begin(), by_size.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::set<std::string> out;
  for (size_t i = 0; i < by_size.size() && i < size_t(max_groups); ++i) {
    out.insert(by_size[i].second);
  }
  return out;
}

MetricsObserver::MetricsObserver(Metrics* metrics,
                                 const CalibrationStore* calibrations,
                                 int max_groups)
    : metrics_(metrics), calibrations_(calibrations), max_groups_(max_groups) {
  metrics_->SetCollectHook([this] { Collect(); });
}

MetricsObserver::~MetricsObserver() = default;

void MetricsObserver::OnCall(const CallRecord& r,
                             const std::map<std::string, uint64_t>& per_group) {
  if (r.gallery_size >= 0) {
    metrics_->SetGalleryEntries(r.gallery, static_cast<uint64_t>(r.gallery_size));
  }
  if ((r.rpc != "Search" && r.rpc != "SearchStream") || !r.status.ok()) return;
  metrics_->CountProbes(r.gallery, static_cast<uint64_t>(r.probes));
  const absl::Duration stages[] = {r.queue_time, r.normalize_time,
                                   r.search_time, r.telemetry_time};
  for (int i = 0; i < Metrics::kStages; ++i) {
    metrics_->ObserveLatency(StageOf(i), absl::ToDoubleSeconds(stages[i]));
  }
  if (r.decision) metrics_->ObserveThreshold(r.decision->threshold);
  // One label lookup per distinct group, not per candidate.
  std::map<std::string, uint64_t> per_label;
  for (const auto& [group, n] : per_group) {
    per_label[GroupLabel(r.gallery, group)] += n;
  }
  for (const auto& [label, n] : per_label) {
    metrics_->CountCandidates(r.gallery, label, n);
  }
}

void MetricsObserver::OnAnswered(const std::string& rpc, absl::StatusCode code,
                                 absl::Time start) {
  metrics_->CountRequest(rpc, code);
  metrics_->ObserveRequestDuration(rpc,
                                   absl::ToDoubleSeconds(absl::Now() - start));
}

void MetricsObserver::OnVerdict(VerdictOutcome outcome) {
  metrics_->CountVerdict(outcome);
}

void MetricsObserver::OnPolicyThreshold(const std::string& gallery,
                                        const ThresholdReport& report) {
  metrics_->SetPolicyThreshold(gallery, report.threshold);
  std::map<std::string, double> fpir;
  for (const GroupRates& g : report.groups) {
    const Rate& r = g.fpir_extrapolated ? *g.fpir_extrapolated : g.fpir;
    double& slot =
        fpir.try_emplace(GroupLabel(gallery, g.group), 0.0).first->second;
    slot = std::max(slot, r.rate);
  }
  metrics_->ClearPolicyFpir(gallery);
  for (const auto& [group, rate] : fpir) {
    metrics_->SetPolicyFpir(gallery, group, rate);
  }
}

void MetricsObserver::ForgetGallery(const std::string& name) {
  {
    absl::MutexLock lock(&groups_mu_);
    top_groups_.erase(name);
  }
  metrics_->ForgetGallery(name);
}

void MetricsObserver::OnBatch(const batching::BatchEvent& event) {
  metrics_->ObserveBatchProbes(event.probes);
}

void MetricsObserver::Attach(GaugeSource source) {
  absl::MutexLock lock(&source_mu_);
  source_ = std::move(source);
}

void MetricsObserver::Detach() {
  absl::MutexLock lock(&source_mu_);
  source_ = GaugeSource();
}

// The set is computed at every scrape, and when missing or older than
// kGroupsMaxAge.
std::string MetricsObserver::GroupLabel(const std::string& gallery,
                                        const std::string& group) {
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&groups_mu_);
    auto it = top_groups_.find(gallery);
    if (it != top_groups_.end() && now - it->second.at < kGroupsMaxAge) {
      return it->second.groups.count(group) ? group : kOtherGroup;
    }
  }
  std::set<std::string> top;
  {
    absl::ReaderMutexLock lock(&source_mu_);
    if (source_.groups) top = LargestGroups(source_.groups(gallery), max_groups_);
  }
  const bool kept = top.count(group) > 0;
  absl::MutexLock lock(&groups_mu_);
  top_groups_[gallery] = TopGroups{now, std::move(top)};
  return kept ? group : kOtherGroup;
}

void MetricsObserver::Collect() {
  // Held throughout: Detach waits for a scrape that reads the source.
  absl::ReaderMutexLock attached(&source_mu_);
  if (source_.galleries) {
    std::set<std::string> live;
    std::map<std::string, TopGroups> tops;
    const absl::Time now = absl::Now();
    for (const GalleryGauges& g : source_.galleries()) {
      live.insert(g.name);
      metrics_->SetGalleryEntries(g.name, g.entries);
      metrics_->SetGalleryMemory(g.name, g.host_bytes, g.device_bytes);
      metrics_->SetGalleryBytesPerEntry(
          g.name, g.precision,
          g.entries > 0 ? double(g.host_bytes) / double(g.entries) : 0.0);
      metrics_->SetErasureBacklog(g.name, g.erasure_backlog);
      metrics_->SetCompactionFailures(g.name, g.compaction_failures);
      CalibrationStore::Ptr calibration = calibrations_->Find(g.name);
      const CalibrationInfo described = DescribeCalibration(
          calibration.get(), {g.entries, absl::ToUnixMicros(now)});
      metrics_->SetCalibration(g.name, described.present,
                               described.age_seconds, described.stale);
      tops[g.name] = {now, LargestGroups(g.groups, max_groups_)};
      std::set<std::string> keep = tops[g.name].groups;
      keep.insert(kOtherGroup);
      metrics_->RetainGroups(g.name, keep);
    }
    {
      absl::MutexLock lock(&groups_mu_);
      top_groups_ = std::move(tops);
    }
    metrics_->RetainGalleries(live);
  }
  if (source_.queue) {
    int64_t requests = 0, probes = 0;
    source_.queue(&requests, &probes);
    metrics_->SetQueueDepth(requests, probes);
  }
}

std::map<std::string, uint64_t> MetricsObserver::CandidatesPerGroup(
    const v1::SearchResponse* response) {
  std::map<std::string, uint64_t> per_group;
  if (response == nullptr) return per_group;
  for (const auto& result : response->results()) {
    for (const auto& c : result.candidates()) ++per_group[c.group()];
  }
  return per_group;
}

}  // namespace candor::telemetry
