// CPU reference of the threshold + top-k selection and merge (contract in
// select_topk.h).
#include <algorithm>
#include <queue>

#include "absl/strings/str_cat.h"
#include "kernels/select_topk.h"

namespace candor::kernels {

absl::Status ValidateTopK(int k) {
  if (k < 1 || k > kMaxTopK) {
    return absl::InvalidArgumentError(absl::StrCat(
        "top_k ", k, " is out of range: must be in [1, ", kMaxTopK, "]"));
  }
  return absl::OkStatus();
}

std::vector<std::vector<SelectedHit>> SelectTopKReference(
    const float* scores, int64_t probes, int64_t cols, int64_t ld,
    const uint64_t* col_ids, const float* thresholds, int k) {
  std::vector<std::vector<SelectedHit>> out(static_cast<size_t>(probes));
  // With BetterHit as "less", the priority queue's top is the best hit; we
  // want the worst kept hit on top, so the comparator is BetterHit itself:
  // std::priority_queue puts the element that compares greatest on top, and
  // under BetterHit the "greatest" is the worst.
  for (int64_t p = 0; p < probes; ++p) {
    std::priority_queue<SelectedHit, std::vector<SelectedHit>,
                        decltype(&BetterHit)>
        kept(&BetterHit);
    const float* row = scores + p * ld;
    for (int64_t c = 0; c < cols; ++c) {
      if (col_ids[c] == kRemovedId || !(row[c] >= thresholds[p])) continue;
      const SelectedHit hit{col_ids[c], row[c]};
      if (static_cast<int>(kept.size()) < k) {
        kept.push(hit);
      } else if (BetterHit(hit, kept.top())) {
        kept.pop();
        kept.push(hit);
      }
    }
    std::vector<SelectedHit>& hits = out[static_cast<size_t>(p)];
    hits.resize(kept.size());
    for (size_t i = hits.size(); i > 0; --i) {
      hits[i - 1] = kept.top();
      kept.pop();
    }
  }
  return out;
}

std::vector<SelectedHit> MergeTopKReference(const std::vector<SelectedHit>& a,
                                            const std::vector<SelectedHit>& b,
                                            int k) {
  std::vector<SelectedHit> out;
  out.reserve(static_cast<size_t>(
      std::min<size_t>(a.size() + b.size(), static_cast<size_t>(k))));
  size_t i = 0, j = 0;
  while (static_cast<int>(out.size()) < k && (i < a.size() || j < b.size())) {
    if (j == b.size() || (i < a.size() && BetterHit(a[i], b[j]))) {
      out.push_back(a[i++]);
    } else {
      out.push_back(b[j++]);
    }
  }
  return out;
}

}  // namespace candor::kernels
