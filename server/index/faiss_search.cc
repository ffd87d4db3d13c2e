#include "server/index/faiss_search.h"

#include <algorithm>
#include <vector>

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

}  // namespace

absl::StatusOr<SearchHits> SearchFaissIndex(
    const faiss::Index& index, absl::Span<const float> probes,
    absl::Span<const ProbeQuery> queries,
    const faiss::SearchParameters* params) {
  const int64_t n = static_cast<int64_t>(queries.size());
  const int64_t d = index.d;
  SearchHits hits(static_cast<size_t>(n));
  if (n == 0 || index.ntotal == 0) return hits;

  int64_t max_top_k = 1;
  for (const ProbeQuery& q : queries) max_top_k = std::max<int64_t>(max_top_k, q.top_k);
  // Results beyond top_k show whether a tie straddles the top_k boundary:
  // only when the top_k-th score equals the last one returned may an equal
  // score lie deeper. With one extra result, float32 scores that round
  // alike sent enough probes into the deep search below (a single-probe
  // scan that FAISS runs without BLAS, tens of ms on 100k x 512) to cost 2%
  // of the server's time at batch 256; a few more results make that need
  // nine equal scores.
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
    // Rare: equal scores at the boundary. Deepen this probe until the
    // boundary score is no longer the last one seen (or everything is seen).
    int64_t deep_k = k;
    std::vector<float> deep_scores;
    std::vector<int64_t> deep_labels;
    do {
      deep_k = std::min<int64_t>(deep_k * 2, index.ntotal);
      status = RawSearch(index, probes.data() + i * d, 1, deep_k, params,
                         &deep_scores, &deep_labels);
      if (!status.ok()) return status;
    } while (deep_k < index.ntotal &&
             BoundaryTieMayBeCut(deep_scores.data(), deep_labels.data(),
                                 deep_k, q));
    hits[i] = SelectHits(deep_scores.data(), deep_labels.data(), deep_k, q);
  }
  return hits;
}

}  // namespace candor::index
