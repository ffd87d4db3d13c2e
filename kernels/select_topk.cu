// Launchers of the selection and merge kernels; the one place their templates
// are instantiated.
#include <cuda_runtime.h>

#include "absl/strings/str_cat.h"
#include "kernels/cuda_check.h"
#include "kernels/detail/select_topk.cuh"
#include "kernels/select_topk_device.h"

namespace candor::kernels {
namespace {

// 256 threads x 8 keys = 2048 buffered candidates: the running top-k
// (<= kMaxTopK = 1024) plus one 1024-score chunk. 8 keys of 16 bytes per
// thread stay in registers; the buffer (32 KiB) fits the default 48 KiB of
// static shared memory with the sort's scratch aliased onto it.
constexpr int kThreads = 256;
constexpr int kItemsPerThread = 8;

// gridDim.x holds up to 2^31 - 1 blocks, one per probe.
constexpr int64_t kMaxProbesPerLaunch = (int64_t{1} << 31) - 1;

}  // namespace

absl::Status SelectTopKDevice(const float* scores, int64_t probes, int64_t cols,
                              int64_t ld, const uint64_t* col_ids,
                              const float* thresholds, int k,
                              bool merge_into_lists, DeviceTopKLists lists,
                              void* stream, SelectTuning tuning) {
  if (absl::Status s = ValidateTopK(k); !s.ok()) return s;
  if (probes < 0 || cols < 0 || ld < cols) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad score block: probes ", probes, ", cols ", cols, ", ld ", ld));
  }
  if (probes > kMaxProbesPerLaunch) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many probes for one launch: ", probes));
  }
  if (probes == 0) return absl::OkStatus();
  detail::SelectTopKKernel<kThreads, kItemsPerThread>
      <<<dim3(static_cast<unsigned>(probes), 1), kThreads, 0,
         static_cast<cudaStream_t>(stream)>>>(
          scores, cols, ld, col_ids, /*ids_ld=*/0, thresholds, k,
          merge_into_lists, /*pad_lists=*/false, tuning.skip_unchanged_sort,
          lists.scores, lists.ids, lists.counts);
  CUDA_RETURN_IF_LAUNCH_FAILED();
  return absl::OkStatus();
}

absl::Status SelectTopKSplitDevice(const float* scores, int64_t probes,
                                   int64_t cols, int64_t ld,
                                   const uint64_t* col_ids,
                                   const float* thresholds, int k, int splits,
                                   DeviceTopKLists partial,
                                   bool merge_into_lists, DeviceTopKLists lists,
                                   void* stream, SelectTuning tuning) {
  if (splits < 1 || splits > kMaxSelectSplits) {
    return absl::InvalidArgumentError(absl::StrCat(
        "splits ", splits, " out of range [1, ", kMaxSelectSplits, "]"));
  }
  if (splits == 1) {
    return SelectTopKDevice(scores, probes, cols, ld, col_ids, thresholds, k,
                            merge_into_lists, lists, stream, tuning);
  }
  if (absl::Status s = ValidateTopK(k); !s.ok()) return s;
  if (probes < 0 || cols < 0 || ld < cols || probes > kMaxProbesPerLaunch) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad score block: probes ", probes, ", cols ", cols, ", ld ", ld));
  }
  if (probes == 0) return absl::OkStatus();
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  // Stage 1: each slice's top-k, padded so the lists form a dense block.
  detail::SelectTopKKernel<kThreads, kItemsPerThread>
      <<<dim3(static_cast<unsigned>(probes), static_cast<unsigned>(splits)),
         kThreads, 0, s>>>(scores, cols, ld, col_ids, /*ids_ld=*/0, thresholds,
                           k, /*merge_into_lists=*/false,
                           /*pad_lists=*/true, tuning.skip_unchanged_sort,
                           partial.scores, partial.ids, partial.counts);
  CUDA_RETURN_IF_LAUNCH_FAILED();
  // Stage 2: per probe, the splits * k partial candidates (ids per probe)
  // with the running lists.
  const int64_t candidates = static_cast<int64_t>(splits) * k;
  detail::SelectTopKKernel<kThreads, kItemsPerThread>
      <<<dim3(static_cast<unsigned>(probes), 1), kThreads, 0, s>>>(
          partial.scores, candidates, candidates, partial.ids,
          /*ids_ld=*/candidates, thresholds, k, merge_into_lists,
          /*pad_lists=*/false, tuning.skip_unchanged_sort, lists.scores,
          lists.ids, lists.counts);
  CUDA_RETURN_IF_LAUNCH_FAILED();
  return absl::OkStatus();
}

absl::Status MergeTopKDevice(DeviceTopKLists a, DeviceTopKLists b,
                             int64_t probes, int k, DeviceTopKLists out,
                             void* stream) {
  if (absl::Status s = ValidateTopK(k); !s.ok()) return s;
  if (probes < 0 || probes > kMaxProbesPerLaunch) {
    return absl::InvalidArgumentError(absl::StrCat("bad probe count ", probes));
  }
  if (probes == 0) return absl::OkStatus();
  detail::MergeTopKKernel<kThreads, kItemsPerThread>
      <<<static_cast<unsigned>(probes), kThreads, 0,
         static_cast<cudaStream_t>(stream)>>>(k, a.scores, a.ids, a.counts,
                                              b.scores, b.ids, b.counts,
                                              out.scores, out.ids, out.counts);
  CUDA_RETURN_IF_LAUNCH_FAILED();
  return absl::OkStatus();
}

}  // namespace candor::kernels
