#include "tests/batching/fake_search.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace candor::batching::testing {

BatchKey KeyOf(const std::string& name) {
  static absl::Mutex mu(absl::kConstInit);
  // Never freed: keys handed out stay valid until the process ends.
  static auto* const targets = new std::map<std::string, std::shared_ptr<int>>;
  absl::MutexLock lock(&mu);
  std::shared_ptr<int>& target = (*targets)[name];
  if (target == nullptr) target = std::make_shared<int>(0);
  return BatchKey(target, name);
}

BruteForceGallery::BruteForceGallery(int entries, int dim, uint32_t seed)
    : dim_(dim), entries_(entries) {
  std::mt19937 rng(seed);
  vectors_ = RandomUnitRows(entries, dim, rng);
}

std::vector<float> BruteForceGallery::Row(int i) const {
  return std::vector<float>(
      vectors_.begin() + static_cast<size_t>(i) * dim_,
      vectors_.begin() + static_cast<size_t>(i + 1) * dim_);
}

absl::StatusOr<CandidateLists> BruteForceGallery::Search(
    absl::Span<const float> probes,
    absl::Span<const ProbeQuery> queries) const {
  if (probes.size() != queries.size() * dim_) {
    return absl::InvalidArgumentError(
        absl::StrCat("probes of ", probes.size(), " floats for ",
                     queries.size(), " queries at dimension ", dim_));
  }
  CandidateLists out(queries.size());
  for (size_t p = 0; p < queries.size(); ++p) {
    std::vector<ScoredId> hits;
    for (int e = 0; e < entries_; ++e) {
      float score = 0;
      for (int c = 0; c < dim_; ++c) {
        score +=
            probes[p * dim_ + c] * vectors_[static_cast<size_t>(e) * dim_ + c];
      }
      if (score >= queries[p].threshold)
        hits.push_back({EntryId(1000 + e), score});
    }
    std::sort(hits.begin(), hits.end(), BetterCandidate);
    if (hits.size() > static_cast<size_t>(queries[p].top_k)) {
      hits.resize(queries[p].top_k);
    }
    for (const ScoredId& hit : hits) {
      const int e = static_cast<int>(hit.id - 1000);
      out[p].push_back(Candidate{hit.id, absl::StrCat("s", e / 2),
                                 absl::StrCat("g", e % 3), hit.score});
    }
  }
  return out;
}

RecordingSearch::RecordingSearch(
    std::map<std::string, const BruteForceGallery*> galleries,
    bool hold_first_call)
    : galleries_(std::move(galleries)), hold_first_call_(hold_first_call) {}

SearchFn RecordingSearch::AsSearchFn() {
  return [this](const BatchKey& key, absl::Span<const float> probes,
                absl::Span<const ProbeQuery> queries) {
    return Search(key, probes, queries);
  };
}

std::vector<RecordingSearch::Call> RecordingSearch::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

void RecordingSearch::FailWith(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_with_ = std::move(status);
}

absl::StatusOr<SearchOutcome> RecordingSearch::Search(
    const BatchKey& key, absl::Span<const float> probes,
    absl::Span<const ProbeQuery> queries) {
  bool first = false;
  absl::Status fail_with;
  {
    absl::MutexLock lock(&mu_);
    first = calls_.empty();
    calls_.push_back(
        Call{key.name(), std::vector<float>(probes.begin(), probes.end()),
             std::vector<ProbeQuery>(queries.begin(), queries.end())});
    fail_with = fail_with_;
  }
  if (first && hold_first_call_) {
    first_call_entered_.Notify();
    release_first_call_.WaitForNotification();
  }
  if (!fail_with.ok()) return fail_with;
  auto it = galleries_.find(key.name());
  if (it == galleries_.end()) {
    return absl::NotFoundError(absl::StrCat("no gallery ", key.name()));
  }
  absl::StatusOr<CandidateLists> found = it->second->Search(probes, queries);
  if (!found.ok()) return found.status();
  SearchOutcome outcome;
  outcome.candidates = *std::move(found);
  outcome.version = 7;
  return outcome;
}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void FakeClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

}  // namespace candor::batching::testing
