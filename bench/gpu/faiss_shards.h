// How a FAISS 1.7.3 user reaches a gallery past 2^31 elements on one GPU.
// FAISS 1.7.3's GpuIndexFlat addresses its vectors with 32-bit integers
// (64-bit indexing came in 2023), so one index of 10M x 512 (5.12e9
// elements) cannot be trusted; faiss::IndexShards over several
// GpuIndexFlatIP parts, each under the limit, merged by FAISS, can. Plain
// C++ so that the arithmetic is tested without FAISS or a GPU.
#ifndef CANDOR_BENCH_GPU_FAISS_SHARDS_H_
#define CANDOR_BENCH_GPU_FAISS_SHARDS_H_

#include <cstdint>

namespace candor::bench {

// Most elements (rows * dim) one FAISS 1.7.3 GPU flat index may hold.
inline constexpr int64_t kFaissMaxElementsPerIndex = (int64_t{1} << 31) - 1;

struct FaissShardPlan {
  int shards = 1;
  int64_t rows_per_shard = 0;  // all shards but the last; the last <= this
};

// The fewest equal shards with rows_per_shard * dim <= the limit.
// rows >= 0, 1 <= dim <= kFaissMaxElementsPerIndex.
FaissShardPlan PlanFaissShards(int64_t rows, int dim);

}  // namespace candor::bench

#endif  // CANDOR_BENCH_GPU_FAISS_SHARDS_H_
