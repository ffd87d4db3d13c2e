// Device side of the threshold + top-k selection (contract in select_topk.h).
// Instantiated only in select_topk.cu.
//
// One block per probe, or per slice of a probe's columns (split selection,
// for small batches). The block keeps a shared-memory buffer of candidates:
// the running top-k first, then whatever the scan appends. It scans its
// probe's scores in chunks of kThreads * 4 (one 16-byte load per thread);
// a score passes when it is >= the cutoff, max(threshold, running k-th
// score), and only then is its id read. Passing candidates are appended with
// a shared atomic. When the next chunk could overflow the buffer, the buffer
// is sorted with CUB's BlockMergeSort and cut to k, which raises the cutoff.
// Why a merge sort and not a radix sort: the order is (score desc, id asc)
// over a float and a 64-bit id, a comparator CUB's merge sort takes as is,
// while a radix sort would need a 96-bit composite key. Once the running
// top-k is full, almost every score fails the cutoff, so the sorts are rare
// and the scan is bound by reading the scores (from L2 in the fused search).
#ifndef CANDOR_KERNELS_DETAIL_SELECT_TOPK_CUH_
#define CANDOR_KERNELS_DETAIL_SELECT_TOPK_CUH_

#include <cstdint>
#include <cub/block/block_merge_sort.cuh>

#include "kernels/select_topk.h"

namespace candor::kernels::detail {

struct SortKey {
  float score;
  uint64_t id;
};

// The selection order of BetterHit, on the device.
struct BetterKey {
  __device__ bool operator()(const SortKey& a, const SortKey& b) const {
    if (a.score != b.score) return a.score > b.score;
    return a.id < b.id;
  }
};

__device__ inline float NegativeInfinity() {
  return __int_as_float(0xff800000);
}

template <int kThreads, int kItemsPerThread>
struct TopKBlock {
  static constexpr int kCapacity = kThreads * kItemsPerThread;
  // Scores one scan step reads: one float4 per thread.
  static constexpr int kChunk = kThreads * 4;
  static_assert(kCapacity - kChunk >= kMaxTopK,
                "the buffer must hold the running top-k plus one chunk");
  using Sort = cub::BlockMergeSort<SortKey, kThreads, kItemsPerThread>;

  // The candidate buffer and the sort's scratch are never live at once.
  union Storage {
    SortKey buffer[kCapacity];
    typename Sort::TempStorage sort;
  };

  // Sorts buffer[0, count) best first; every thread of the block calls it.
  // Entry and exit are block barriers.
  __device__ static void SortBuffer(Storage& storage, int count) {
    const SortKey sentinel{NegativeInfinity(), kRemovedId};
    SortKey keys[kItemsPerThread];
#pragma unroll
    for (int i = 0; i < kItemsPerThread; ++i) {
      const int slot = threadIdx.x * kItemsPerThread + i;
      keys[i] = slot < count ? storage.buffer[slot] : sentinel;
    }
    __syncthreads();
    Sort(storage.sort).Sort(keys, BetterKey(), count, sentinel);
    __syncthreads();
#pragma unroll
    for (int i = 0; i < kItemsPerThread; ++i) {
      storage.buffer[threadIdx.x * kItemsPerThread + i] = keys[i];
    }
    __syncthreads();
  }
};

// Grid: (probes, splits). Block (p, s) scans columns [s * span, (s + 1) *
// span) of probe p, span = cols / splits rounded up to a whole chunk (so
// every slice starts 16-byte aligned), and owns list p * splits + s.
// ids: the id of score (p, c) is ids[p * ids_ld + c]: ids_ld = 0 for gallery
// columns shared by all probes, the row stride for per-probe candidates
// (the second stage of a split selection). merge_into_lists: only with one
// split. pad_lists: fill the list's unused slots with a sentinel (score -inf,
// kRemovedId) so that the lists can be rescanned as a dense score block.
// skip_unchanged_sort: when the scan appended nothing, leave the list as it
// was instead of sorting and rewriting it (the same result; off only to
// measure what the skip saves).
template <int kThreads, int kItemsPerThread>
__global__ void __launch_bounds__(kThreads)
    SelectTopKKernel(const float* __restrict__ scores, int64_t cols, int64_t ld,
                     const uint64_t* __restrict__ ids, int64_t ids_ld,
                     const float* __restrict__ thresholds, int k,
                     bool merge_into_lists, bool pad_lists,
                     bool skip_unchanged_sort, float* list_scores,
                     uint64_t* list_ids, int32_t* list_counts) {
  using Block = TopKBlock<kThreads, kItemsPerThread>;
  __shared__ typename Block::Storage storage;
  __shared__ int count;
  __shared__ float cutoff;

  const int64_t probe = blockIdx.x;
  const int64_t list = probe * gridDim.y + blockIdx.y;
  const int64_t span =
      ((cols + gridDim.y - 1) / gridDim.y + Block::kChunk - 1) / Block::kChunk *
      Block::kChunk;
  const int64_t col_begin = blockIdx.y * span;
  const int64_t col_end = min(cols, col_begin + span);
  const float threshold = thresholds[probe];
  float* my_scores = list_scores + list * k;
  uint64_t* my_ids = list_ids + list * k;
  const int prior = merge_into_lists ? list_counts[list] : 0;
  for (int i = threadIdx.x; i < prior; i += kThreads) {
    storage.buffer[i] = SortKey{my_scores[i], my_ids[i]};
  }
  if (threadIdx.x == 0) {
    count = prior;
    cutoff = prior == k ? fmaxf(threshold, my_scores[k - 1]) : threshold;
  }
  __syncthreads();

  bool sorted_in_scan = false;
  const float* row = scores + probe * ld;
  const uint64_t* row_ids = ids + probe * ids_ld;
  const bool vectorized =
      ld % 4 == 0 && (reinterpret_cast<uintptr_t>(scores) & 15) == 0;
  for (int64_t base = col_begin; base < col_end; base += Block::kChunk) {
    const float cut = cutoff;
    const int64_t col = base + threadIdx.x * 4;
    float v[4];
    if (vectorized && col + 3 < col_end) {
      const float4 f = *reinterpret_cast<const float4*>(row + col);
      v[0] = f.x;
      v[1] = f.y;
      v[2] = f.z;
      v[3] = f.w;
    } else {
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        v[j] = col + j < col_end ? row[col + j] : NegativeInfinity();
      }
    }
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      // A column past the end holds -inf; with a threshold of -inf it
      // passes the compare, so the bound is checked before the id is read.
      if (v[j] >= cut && col + j < col_end) {
        const uint64_t id = row_ids[col + j];
        if (id != kRemovedId) {
          const int slot = atomicAdd(&count, 1);
          // + 0.0f turns -0.0 into +0.0 so that the two compare as the
          // CPU reference compares them (equal, then by id).
          storage.buffer[slot] = SortKey{v[j] + 0.0f, id};
        }
      }
    }
    __syncthreads();
    const int n = count;
    // Every thread has read `count` before anyone appends again.
    __syncthreads();
    if (n > Block::kCapacity - Block::kChunk) {
      sorted_in_scan = true;
      Block::SortBuffer(storage, n);
      if (threadIdx.x == 0) {
        count = min(n, k);
        cutoff =
            n >= k ? fmaxf(threshold, storage.buffer[k - 1].score) : threshold;
      }
      __syncthreads();
    }
  }

  const int n = count;
  const int kept = min(n, k);
  // Nothing appended and no sort in the scan: the buffer is the list as it
  // was loaded, already sorted and already in place. With a small k and a
  // full running list this is the steady state of the cross-tile merge, so
  // the block skips the sort and the write-back (`n` and `sorted_in_scan`
  // are the same in every thread: shared, or set under a shared condition).
  const bool unchanged = skip_unchanged_sort && !sorted_in_scan && n == prior;
  if (!unchanged) {
    Block::SortBuffer(storage, n);
    for (int i = threadIdx.x; i < kept; i += kThreads) {
      my_scores[i] = storage.buffer[i].score;
      my_ids[i] = storage.buffer[i].id;
    }
  }
  if (pad_lists) {
    for (int i = kept + threadIdx.x; i < k; i += kThreads) {
      my_scores[i] = NegativeInfinity();
      my_ids[i] = kRemovedId;
    }
  }
  if (threadIdx.x == 0) list_counts[list] = kept;
}

template <int kThreads, int kItemsPerThread>
__global__ void __launch_bounds__(kThreads)
    MergeTopKKernel(int k, const float* a_scores, const uint64_t* a_ids,
                    const int32_t* a_counts, const float* b_scores,
                    const uint64_t* b_ids, const int32_t* b_counts,
                    float* out_scores, uint64_t* out_ids, int32_t* out_counts) {
  using Block = TopKBlock<kThreads, kItemsPerThread>;
  static_assert(Block::kCapacity >= 2 * kMaxTopK, "both lists must fit");
  __shared__ typename Block::Storage storage;

  const int64_t probe = blockIdx.x;
  const int64_t offset = probe * k;
  const int na = a_counts[probe];
  const int nb = b_counts[probe];
  for (int i = threadIdx.x; i < na; i += kThreads) {
    storage.buffer[i] = SortKey{a_scores[offset + i], a_ids[offset + i]};
  }
  for (int i = threadIdx.x; i < nb; i += kThreads) {
    storage.buffer[na + i] = SortKey{b_scores[offset + i], b_ids[offset + i]};
  }
  __syncthreads();
  Block::SortBuffer(storage, na + nb);
  const int kept = min(na + nb, k);
  for (int i = threadIdx.x; i < kept; i += kThreads) {
    out_scores[offset + i] = storage.buffer[i].score;
    out_ids[offset + i] = storage.buffer[i].id;
  }
  if (threadIdx.x == 0) out_counts[probe] = kept;
}

}  // namespace candor::kernels::detail

#endif  // CANDOR_KERNELS_DETAIL_SELECT_TOPK_CUH_
