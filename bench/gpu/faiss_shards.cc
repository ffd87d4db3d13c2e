// PlanFaissShards (faiss_shards.h).
#include "bench/gpu/faiss_shards.h"

#include <algorithm>

namespace candor::bench {

FaissShardPlan PlanFaissShards(int64_t rows, int dim) {
  FaissShardPlan plan;
  const int64_t max_rows = kFaissMaxElementsPerIndex / std::max(dim, 1);
  plan.shards =
      static_cast<int>(std::max<int64_t>(1, (rows + max_rows - 1) / max_rows));
  plan.rows_per_shard = (rows + plan.shards - 1) / plan.shards;
  return plan;
}

}  // namespace candor::bench
