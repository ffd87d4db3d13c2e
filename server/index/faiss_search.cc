#include "server/index/faiss_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "faiss/impl/AuxIndexStructures.h"
#include "server/index/faiss_status.h"
#include "server/index/hit_selection.h"

namespace candor::index {
namespace {

// Searches rows [first, first + n) at depth k into scores/labels.
absl::Status RawSearch(const faiss::Index& index, const float* probes,
                       int64_t n, int64_t k,
                       const faiss::SearchParameters* params,
                       std::vector<float>* scores,
                       std::vector<int64_t>* labels) {
  scores->assign(static_cast<size_t>(n * k), 0.0f);
  labels->assign(static_cast<size_t>(n * k), -1);
  return CallFaiss("search", [&] {
    index.search(n, probes, k, scores->data(), labels->data(), params);
  });
}

// Every entry of one probe scoring strictly above `radius` (FAISS's range
// search for inner product), unsorted, as (id, score).
absl::Status RangePass(const faiss::Index& index, const float* probe,
                       float radius, const faiss::SearchParameters* params,
                       std::vector<ScoredId>* found) {
  faiss::RangeSearchResult result(1);
  absl::Status status = CallFaiss("range search", [&] {
    index.range_search(1, probe, radius, &result, params);
  });
  if (!status.ok()) return status;
  found->clear();
  found->reserve(result.lims[1]);
  for (size_t j = result.lims[0]; j < result.lims[1]; ++j) {
    if (result.labels[j] < 0) continue;
    found->push_back(
        ScoredId{static_cast<EntryId>(result.labels[j]), result.distances[j]});
  }
  return absl::OkStatus();
}

// The largest float strictly below x: a range search above it keeps x.
float JustBelow(float x) {
  return std::nextafter(x, -std::numeric_limits<float>::infinity());
}

}  // namespace

absl::StatusOr<std::vector<ScoredId>> ResolveBoundaryTie(
    const faiss::Index& index, const float* probe, const ProbeQuery& query,
    float boundary, const faiss::SearchParameters* params) {
  // The range pass may score in another summation order than the batched
  // k-NN pass (BLAS there, a single-probe kernel here), so it reaches a
  // little below the boundary: the answer is then computed from the range
  // pass alone, whose scores are self-consistent.
  const float floor = JustBelow(query.threshold);
  const float radius = std::max(boundary - kTieRangeMargin, floor);
  std::vector<ScoredId> found;
  absl::Status status = RangePass(index, probe, radius, params, &found);
  if (!status.ok()) return status;
  // Exact when the pass holds top_k hits (every entry left out scores <=
  // radius, below all of them) or reached down to the threshold.
  const auto hits_in = [&] {
    return std::count_if(found.begin(), found.end(), [&](const ScoredId& h) {
      return h.score >= query.threshold;
    });
  };
  if (radius > floor && hits_in() < query.top_k) {
    // The two arithmetics disagreed by more than the margin: take every
    // hit above the threshold (a second and last pass).
    status = RangePass(index, probe, floor, params, &found);
    if (!status.ok()) return status;
  }
  found.erase(std::remove_if(found.begin(), found.end(),
                             [&](const ScoredId& h) {
                               return !(h.score >= query.threshold);
                             }),
              found.end());
  const size_t keep =
      std::min(found.size(), static_cast<size_t>(std::max(query.top_k, 0)));
  std::partial_sort(found.begin(), found.begin() + keep, found.end(),
                    BetterCandidate);
  found.resize(keep);
  return found;
}

absl::StatusOr<SearchHits> SearchFaissIndex(
    const faiss::Index& index, absl::Span<const float> probes,
    absl::Span<const ProbeQuery> queries,
    const faiss::SearchParameters* params) {
  const int64_t n = static_cast<int64_t>(queries.size());
  const int64_t d = index.d;
  SearchHits hits(static_cast<size_t>(n));
  if (n == 0 || index.ntotal == 0) return hits;

  int64_t max_top_k = 1;
  for (const ProbeQuery& q : queries)
    max_top_k = std::max<int64_t>(max_top_k, q.top_k);
  // Results beyond top_k show whether a tie straddles the top_k boundary:
  // only when the top_k-th score equals the last one returned may an equal
  // score lie deeper. With one extra result, float32 scores that round
  // alike sent enough probes into the tie pass below (a single-probe scan
  // that FAISS runs without BLAS, tens of ms on 100k x 512) to cost 2% of
  // the server's time at batch 256; a few more results make that need nine
  // equal scores.
  constexpr int64_t kTieSlack = 8;
  int64_t k = std::min<int64_t>(max_top_k + kTieSlack, index.ntotal);

  std::vector<float> scores;
  std::vector<int64_t> labels;
  absl::Status status =
      RawSearch(index, probes.data(), n, k, params, &scores, &labels);
  if (!status.ok()) return status;

  for (int64_t i = 0; i < n; ++i) {
    const ProbeQuery& q = queries[i];
    const float* s = scores.data() + i * k;
    const int64_t* l = labels.data() + i * k;
    if (!BoundaryTieMayBeCut(s, l, k, q)) {
      hits[i] = SelectHits(s, l, k, q);
      continue;
    }
    // Rare: equal scores at the boundary, perhaps more than were returned.
    // One range pass settles it however many entries tie.
    auto resolved = ResolveBoundaryTie(index, probes.data() + i * d, q,
                                       s[q.top_k - 1], params);
    if (!resolved.ok()) return resolved.status();
    hits[i] = *std::move(resolved);
  }
  return hits;
}

}  // namespace candor::index
