// The GPU benchmark's plain-C++ helpers: the peak table keyed by the device
// name, and the FAISS 1.7.3 shard plan. No GPU needed.
#include <cstdint>

#include "bench/gpu/device_peaks.h"
#include "bench/gpu/faiss_shards.h"
#include "gtest/gtest.h"

namespace candor::bench {
namespace {

TEST(PeaksForDevice, NamesAsTheRuntimeReportsThem) {
  const auto h200 = PeaksForDevice("NVIDIA H200");
  ASSERT_TRUE(h200.has_value());
  EXPECT_EQ(h200->model, "H200");
  EXPECT_DOUBLE_EQ(h200->hbm_bytes_per_second, 4.8e12);
  const auto h100 = PeaksForDevice("NVIDIA H100 80GB HBM3");
  ASSERT_TRUE(h100.has_value());
  EXPECT_EQ(h100->model, "H100 SXM");
  EXPECT_DOUBLE_EQ(h100->hbm_bytes_per_second, 3.35e12);
  EXPECT_DOUBLE_EQ(h100->fp16_flop_per_second, 989e12);
  // More specific keys win over the plain "H100" / "H200".
  EXPECT_EQ(PeaksForDevice("NVIDIA H100 PCIe")->model, "H100 PCIe");
  EXPECT_EQ(PeaksForDevice("NVIDIA H100 NVL")->model, "H100 NVL");
  EXPECT_EQ(PeaksForDevice("NVIDIA GH200 480GB")->model, "GH200");
  EXPECT_FALSE(PeaksForDevice("NVIDIA GeForce RTX 4090").has_value());
  EXPECT_FALSE(PeaksForDevice("").has_value());
}

TEST(PlanFaissShards, EachShardStaysUnderThe32BitLimit) {
  // 10M x 512 = 5.12e9 elements: three shards of 3,333,334 rows.
  const FaissShardPlan plan = PlanFaissShards(10'000'000, 512);
  EXPECT_EQ(plan.shards, 3);
  EXPECT_EQ(plan.rows_per_shard, 3'333'334);
  for (int64_t rows : {int64_t{1}, int64_t{4'194'303}, int64_t{4'194'304},
                       int64_t{10'000'000}, int64_t{100'000'000}}) {
    for (int dim : {128, 512, 1024}) {
      const FaissShardPlan p = PlanFaissShards(rows, dim);
      EXPECT_LE(p.rows_per_shard * dim, kFaissMaxElementsPerIndex)
          << rows << " x " << dim;
      EXPECT_GE(p.rows_per_shard * p.shards, rows);
      // The fewest: one shard less would not do.
      if (p.shards > 1) {
        EXPECT_GT((rows + p.shards - 2) / (p.shards - 1) * dim,
                  kFaissMaxElementsPerIndex);
      }
    }
  }
  // 2^22 rows of 512 = 2^31 elements: one over the limit.
  EXPECT_EQ(PlanFaissShards(4'194'303, 512).shards, 1);
  EXPECT_EQ(PlanFaissShards(4'194'304, 512).shards, 2);
  EXPECT_EQ(PlanFaissShards(0, 512).shards, 1);
}

}  // namespace
}  // namespace candor::bench
