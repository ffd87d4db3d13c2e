// Small device kernels of the GPU flat index's bookkeeping (tombstones and
// compaction), defined in gpu_flat_index.cu. Plain C++ declarations.
#ifndef CANDOR_SERVER_INDEX_GPU_GPU_FLAT_INDEX_KERNELS_H_
#define CANDOR_SERVER_INDEX_GPU_GPU_FLAT_INDEX_KERNELS_H_

#include <cstdint>

#include "absl/status/status.h"

namespace candor::index::gpu {

// row_ids[rows[i]] = kernels::kRemovedId for i < n. rows and row_ids are
// device memory; stream is a cudaStream_t; enqueues only.
absl::Status MarkRowsRemovedDevice(const int64_t* rows, int64_t n,
                                   uint64_t* row_ids, void* stream);

// Compaction: dst row i = src row keep[i] (row_bytes bytes each, an even
// count) and dst_ids[i] = src_ids[keep[i]], for i < n. All device memory,
// src and dst distinct; enqueues only.
absl::Status GatherRowsDevice(const void* src, const uint64_t* src_ids,
                              const int64_t* keep, int64_t n, int64_t row_bytes,
                              void* dst, uint64_t* dst_ids, void* stream);

}  // namespace candor::index::gpu

#endif  // CANDOR_SERVER_INDEX_GPU_GPU_FLAT_INDEX_KERNELS_H_
