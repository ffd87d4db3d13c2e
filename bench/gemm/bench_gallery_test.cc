#include "bench/gemm/bench_gallery.h"

#include <cmath>
#include <numeric>
#include <vector>

#include "gtest/gtest.h"
#include "server/index/index_factory.h"

namespace candor::bench {
namespace {

constexpr uint64_t kSeed = 7;

TEST(MakeGalleryRows, ARowIsTheSameWhateverTheRangeAndThreads) {
  const int dim = 19;
  std::vector<float> whole(100 * dim), part(30 * dim);
  MakeGalleryRows(kSeed, 0, 100, dim, 1, whole.data());
  MakeGalleryRows(kSeed, 41, 30, dim, 3, part.data());
  for (int i = 0; i < 30 * dim; ++i) ASSERT_EQ(part[i], whole[41 * dim + i]);
  std::vector<float> other(100 * dim);
  MakeGalleryRows(kSeed + 1, 0, 100, dim, 2, other.data());
  EXPECT_NE(other, whole);
}

TEST(MakeGalleryRows, RowsAreUnitAndDistinct) {
  const int dim = 64;
  std::vector<float> rows(50 * dim);
  MakeGalleryRows(kSeed, 0, 50, dim, 2, rows.data());
  for (int r = 0; r < 50; ++r) {
    double sq = 0, dot_next = 0;
    for (int c = 0; c < dim; ++c) {
      sq += double(rows[r * dim + c]) * rows[r * dim + c];
      if (r + 1 < 50)
        dot_next += double(rows[r * dim + c]) * rows[(r + 1) * dim + c];
    }
    EXPECT_NEAR(sq, 1.0, 1e-5) << "row " << r;
    EXPECT_LT(std::abs(dot_next), 0.9) << "rows " << r << " and " << r + 1;
  }
}

TEST(RemadeRows, GivesTheMadeRowOfEachIdAndKeepsItWhereItWas) {
  const int dim = 8;
  std::vector<float> rows(20 * dim);
  MakeGalleryRows(kSeed, 0, 20, dim, 1, rows.data());
  RemadeRows remade(kSeed, dim);
  const float* first = remade.Row(5);  // row 4
  for (EntryId id = 1; id <= 20; ++id) {
    const float* row = remade.Row(id);
    for (int c = 0; c < dim; ++c) ASSERT_EQ(row[c], rows[(id - 1) * dim + c]);
  }
  EXPECT_EQ(remade.Row(5), first);
  EXPECT_EQ(remade.made(), 20);
}

TEST(AddChunkRows, HalvesUntilTheChunkFitsSoTheLastDoublingEndsJustAboveTotal) {
  struct Case {
    int64_t total, max_rows, chunk;
  };
  for (const Case& c : {Case{10'000'000, 65536, 39063}, Case{100, 65536, 100},
                        Case{65536, 65536, 65536}, Case{65537, 65536, 32769},
                        Case{5000, 700, 625}, Case{1, 1, 1}}) {
    const int64_t chunk = AddChunkRows(c.total, c.max_rows);
    EXPECT_EQ(chunk, c.chunk) << c.total << " / " << c.max_rows;
    // Capacities chunk x 2^i: the first at or above total is below
    // total + 2^i (one row per halving at most).
    int64_t capacity = chunk, halvings = 1;
    while (capacity < c.total) {
      capacity *= 2;
      halvings *= 2;
    }
    EXPECT_LT(capacity, c.total + halvings) << c.total;
  }
}

TEST(AddMadeRows, TheBf16IndexAnswersAsWithTheRowsHeldAndAsFp32) {
  const int dim = 24;
  const int64_t n = 3001;
  std::vector<float> held(n * dim);
  MakeGalleryRows(kSeed, 0, n, dim, 2, held.data());
  std::vector<EntryId> ids(n);
  std::iota(ids.begin(), ids.end(), 1);

  HeldRows held_rows(held.data(), dim);
  RemadeRows remade_rows(kSeed, dim);
  index::IndexConfig config;
  config.dimension = dim;
  auto fp32 = index::CreateIndex(config, index::Backend::kCpu);
  config.precision = index::Precision::kBf16;
  config.fp32_rows = &held_rows;
  auto bf16_held = index::CreateIndex(config, index::Backend::kCpu);
  config.fp32_rows = &remade_rows;
  auto bf16_made = index::CreateIndex(config, index::Backend::kCpu);
  ASSERT_TRUE(fp32.ok() && bf16_held.ok() && bf16_made.ok());
  ASSERT_TRUE((*fp32)->Add(ids, held).ok());
  ASSERT_TRUE((*bf16_held)->Add(ids, held).ok());
  ASSERT_TRUE(AddMadeRows(**bf16_made, kSeed, n, dim, 2, 256).ok());
  EXPECT_EQ((*bf16_made)->size(), n);

  // Probes that are gallery rows (each finds itself) and 30 others; the
  // GEMM rescoring path (>= 20 probes).
  std::vector<float> probes(held.begin(), held.begin() + 10 * dim);
  std::vector<float> others(30 * dim);
  MakeGalleryRows(kSeed + 1, 0, 30, dim, 1, others.data());
  probes.insert(probes.end(), others.begin(), others.end());
  const std::vector<ProbeQuery> queries(40, ProbeQuery{0.1f, 7});
  auto want = (*fp32)->Search(probes, queries);
  auto got_held = (*bf16_held)->Search(probes, queries);
  auto got_made = (*bf16_made)->Search(probes, queries);
  ASSERT_TRUE(want.ok() && got_held.ok() && got_made.ok());
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ((*got_made)[i], (*want)[i]) << "probe " << i;
    EXPECT_EQ((*got_held)[i], (*want)[i]) << "probe " << i;
  }
  for (int i = 0; i < 10; ++i) {
    ASSERT_FALSE((*got_made)[i].empty());
    EXPECT_EQ((*got_made)[i][0].id, EntryId(i + 1));
  }
  // Only the rows rescored were made again, not the gallery.
  EXPECT_GT(remade_rows.made(), 0);
  EXPECT_LT(remade_rows.made(), n / 4);
}

}  // namespace
}  // namespace candor::bench
