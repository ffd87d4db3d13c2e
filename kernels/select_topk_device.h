// Threshold + top-k selection and top-k merge on the device; contract in
// select_topk.h. Plain C++ declarations, defined in select_topk.cu
// (CANDOR_CUDA builds only).
#ifndef CANDOR_KERNELS_SELECT_TOPK_DEVICE_H_
#define CANDOR_KERNELS_SELECT_TOPK_DEVICE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "kernels/select_topk.h"

namespace candor::kernels {

// Per-probe top-k lists in device memory: probe p's list is scores[p*k ..],
// ids[p*k ..] (k slots each), best first, counts[p] of them valid.
struct DeviceTopKLists {
  float* scores = nullptr;
  uint64_t* ids = nullptr;
  int32_t* counts = nullptr;
};

// Switches of the selection that do not change its result.
struct SelectTuning {
  // With merge_into_lists, a block whose scan appended nothing leaves its
  // list as loaded instead of sorting and rewriting it. Off only to measure
  // the saving (the benchmark does, in the same run).
  bool skip_unchanged_sort = true;
};

// Selects, per probe, the top k candidates of one score block (device
// memory, probes rows of `cols` floats at row stride `ld`; 16-byte loads
// when ld % 4 == 0 and `scores` is 16-byte aligned). col_ids: cols ids
// (device), kRemovedId skips a column. thresholds: one per probe (device).
// merge_into_lists false: `lists` receives the block's top-k. true: `lists`
// holds a running top-k (same k, same thresholds) that is replaced by the
// top-k of it and the block together; this is the cross-tile merge, fused so
// that the running k-th score prunes the scan (a score below it is dropped
// with one compare). k: validated here (InvalidArgument outside
// [1, kMaxTopK]). One 256-thread block per probe; enqueues on `stream` (a
// cudaStream_t) only.
absl::Status SelectTopKDevice(const float* scores, int64_t probes, int64_t cols,
                              int64_t ld, const uint64_t* col_ids,
                              const float* thresholds, int k,
                              bool merge_into_lists, DeviceTopKLists lists,
                              void* stream, SelectTuning tuning = {});

// Upper bound of `splits` below (the grid's y dimension allows 65535; more
// than a few thousand blocks per probe only adds second-stage work).
inline constexpr int kMaxSelectSplits = 4096;

// SelectTopKDevice for few probes and many columns: each probe's columns are
// divided among `splits` blocks so that the device fills even at batch 1.
// Stage 1 writes each slice's top-k into `partial` (probes * splits lists of
// k slots: list p * splits + s; device memory the caller provides); stage 2
// selects each probe's top-k from its splits * k partial candidates, merged
// into `lists` as SelectTopKDevice would. Same result as SelectTopKDevice
// (the order is total). splits == 1 is SelectTopKDevice itself and leaves
// `partial` unused. InvalidArgument for splits outside [1, kMaxSelectSplits].
absl::Status SelectTopKSplitDevice(const float* scores, int64_t probes,
                                   int64_t cols, int64_t ld,
                                   const uint64_t* col_ids,
                                   const float* thresholds, int k, int splits,
                                   DeviceTopKLists partial,
                                   bool merge_into_lists, DeviceTopKLists lists,
                                   void* stream, SelectTuning tuning = {});

// Merges two sets of per-probe top-k lists (both k slots per probe) into
// `out`, which may be `a` or `b` itself. Used to combine partial results
// computed independently (e.g. on other streams or devices).
absl::Status MergeTopKDevice(DeviceTopKLists a, DeviceTopKLists b,
                             int64_t probes, int k, DeviceTopKLists out,
                             void* stream);

}  // namespace candor::kernels

#endif  // CANDOR_KERNELS_SELECT_TOPK_DEVICE_H_
