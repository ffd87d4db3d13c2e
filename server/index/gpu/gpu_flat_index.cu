// Bookkeeping kernels of the GPU flat index (gpu_flat_index_kernels.h).
// Both run rarely (on Remove, and on compaction), so they favour
// simplicity: grid-stride loops, 16-bit copies (rows are fp16 or fp32).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda_check.h"
#include "kernels/select_topk.h"
#include "server/index/gpu/gpu_flat_index_kernels.h"

namespace candor::index::gpu {
namespace {

constexpr int kThreadsPerBlock = 256;
constexpr int64_t kMaxBlocks = 4096;

__global__ void MarkRowsRemovedKernel(const int64_t* rows, int64_t n,
                                      uint64_t* row_ids) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       i < n; i += stride) {
    row_ids[rows[i]] = kernels::kRemovedId;
  }
}

// One block per destination row (grid-stride over rows).
__global__ void GatherRowsKernel(const uint16_t* src, const uint64_t* src_ids,
                                 const int64_t* keep, int64_t n,
                                 int64_t row_words, uint16_t* dst,
                                 uint64_t* dst_ids) {
  for (int64_t row = blockIdx.x; row < n; row += gridDim.x) {
    const int64_t from = keep[row];
    const uint16_t* in = src + from * row_words;
    uint16_t* out = dst + row * row_words;
    for (int64_t w = threadIdx.x; w < row_words; w += blockDim.x) {
      out[w] = in[w];
    }
    if (threadIdx.x == 0) dst_ids[row] = src_ids[from];
  }
}

}  // namespace

absl::Status MarkRowsRemovedDevice(const int64_t* rows, int64_t n,
                                   uint64_t* row_ids, void* stream) {
  if (n <= 0) return absl::OkStatus();
  const int64_t blocks =
      std::min(kMaxBlocks, (n + kThreadsPerBlock - 1) / kThreadsPerBlock);
  MarkRowsRemovedKernel<<<static_cast<unsigned>(blocks), kThreadsPerBlock, 0,
                          static_cast<cudaStream_t>(stream)>>>(rows, n,
                                                               row_ids);
  CUDA_RETURN_IF_LAUNCH_FAILED();
  return absl::OkStatus();
}

absl::Status GatherRowsDevice(const void* src, const uint64_t* src_ids,
                              const int64_t* keep, int64_t n, int64_t row_bytes,
                              void* dst, uint64_t* dst_ids, void* stream) {
  if (n <= 0) return absl::OkStatus();
  if (row_bytes % 2 != 0) {
    return absl::InvalidArgumentError("row bytes must be even");
  }
  const int64_t blocks = std::min<int64_t>(n, 65535);
  GatherRowsKernel<<<static_cast<unsigned>(blocks), kThreadsPerBlock, 0,
                     static_cast<cudaStream_t>(stream)>>>(
      static_cast<const uint16_t*>(src), src_ids, keep, n, row_bytes / 2,
      static_cast<uint16_t*>(dst), dst_ids);
  CUDA_RETURN_IF_LAUNCH_FAILED();
  return absl::OkStatus();
}

}  // namespace candor::index::gpu
