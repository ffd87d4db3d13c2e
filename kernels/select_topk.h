// Threshold + top-k selection over a block of scores, and the merge of two
// top-k lists: the plain C++ API any compiler reads, with the CPU reference.
// The CUDA kernels (select_topk_device.h) follow the same contract.
//
// Contract: for probe p, the candidates of a score block are the columns c
// with col_ids[c] != kRemovedId and scores[p * ld + c] >= thresholds[p].
// The selection keeps at most k of them, best first: higher score first,
// equal scores by ascending id (the order candor's Index promises). The
// order is total, so the result is unique and a top-k' (k' < k) is a prefix
// of the top-k. Merging two such lists (of the same probe and threshold)
// gives the top-k of their union; this is how per-tile results combine into
// the result over the whole gallery.
#ifndef CANDOR_KERNELS_SELECT_TOPK_H_
#define CANDOR_KERNELS_SELECT_TOPK_H_

#include <cstdint>
#include <limits>
#include <vector>

#include "absl/status/status.h"

namespace candor::kernels {

// Largest k the selection supports. The device kernel keeps the running
// top-k and the next chunk of candidates (256 threads x 4 scores) in one
// shared-memory buffer of 2048 entries that a CUB block merge sort orders,
// so k <= 2048 - 1024. Beyond that a 1:N search is no longer a shortlist.
inline constexpr int kMaxTopK = 1024;

// Id of a removed (tombstoned) gallery row: the selection skips it. It is
// reserved: the GPU backend rejects it as an entry id on Add.
inline constexpr uint64_t kRemovedId = std::numeric_limits<uint64_t>::max();

// One selected candidate.
struct SelectedHit {
  uint64_t id = 0;
  float score = 0.0f;
  friend bool operator==(const SelectedHit& a, const SelectedHit& b) {
    return a.id == b.id && a.score == b.score;
  }
};

// The selection order: higher score first, then ascending id.
inline bool BetterHit(const SelectedHit& a, const SelectedHit& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.id < b.id;
}

// OK for 1 <= k <= kMaxTopK, else InvalidArgument with the value.
absl::Status ValidateTopK(int k);

// CPU reference of the selection. `scores`: probes rows of `cols` floats,
// row stride `ld` >= cols (host memory); `col_ids`: cols ids; `thresholds`:
// one per probe; k validated by the caller. Streams each row through a
// bounded heap of k entries (O(cols log k)), an algorithm independent of the
// brute-force sort the tests compare it with.
std::vector<std::vector<SelectedHit>> SelectTopKReference(
    const float* scores, int64_t probes, int64_t cols, int64_t ld,
    const uint64_t* col_ids, const float* thresholds, int k);

// CPU reference of the merge: `a` and `b` each sorted best first (as the
// selection returns them) with distinct ids; returns the best k of both.
std::vector<SelectedHit> MergeTopKReference(const std::vector<SelectedHit>& a,
                                            const std::vector<SelectedHit>& b,
                                            int k);

}  // namespace candor::kernels

#endif  // CANDOR_KERNELS_SELECT_TOPK_H_
