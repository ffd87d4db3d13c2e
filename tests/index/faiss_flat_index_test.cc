#include "server/index/faiss_flat_index.h"

#include <numeric>
#include <ostream>
#include <random>

#include "gtest/gtest.h"
#include "tests/index/brute_force.h"

namespace candor::index {
namespace {

using ::candor::testing::BruteForceSearch;
using ::candor::testing::RandomUnitRows;

// Scores from FAISS (sgemm, float accumulation) vs the float64 oracle.
constexpr float kScoreTolerance = 1e-5f;

void ExpectSameHits(const std::vector<ScoredId>& got,
                    const std::vector<ScoredId>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t j = 0; j < got.size(); ++j) {
    EXPECT_EQ(got[j].id, want[j].id) << "rank " << j;
    EXPECT_NEAR(got[j].score, want[j].score, kScoreTolerance) << "rank " << j;
  }
}

struct FlatCase {
  int dim;
  int rows;
  int probes;
  float threshold;
  int top_k;
};

void PrintTo(const FlatCase& c, std::ostream* os) {
  *os << "dim " << c.dim << ", " << c.rows << " rows, " << c.probes
      << " probes, threshold " << c.threshold << ", top_k " << c.top_k;
}

class FlatIndexVsBruteForce : public ::testing::TestWithParam<FlatCase> {};

TEST_P(FlatIndexVsBruteForce, SameCandidates) {
  const FlatCase c = GetParam();
  std::mt19937_64 rng(1234 + c.dim + c.rows);
  std::vector<float> gallery = RandomUnitRows(c.rows, c.dim, rng);
  std::vector<EntryId> ids(c.rows);
  for (int i = 0; i < c.rows; ++i) ids[i] = 1000 + 7 * i;  // sparse ids
  auto index = FaissFlatIndex::Create(c.dim);
  ASSERT_TRUE(index.ok());
  ASSERT_TRUE((*index)->Add(ids, gallery).ok());
  EXPECT_EQ((*index)->size(), c.rows);

  // Half the probes are gallery rows (a perfect match), half random.
  std::vector<float> probes = RandomUnitRows(c.probes, c.dim, rng);
  for (int p = 0; p < c.probes; p += 2) {
    std::copy_n(gallery.data() + (p % c.rows) * c.dim, c.dim,
                probes.data() + p * c.dim);
  }
  std::vector<ProbeQuery> queries(c.probes, ProbeQuery{c.threshold, c.top_k});
  auto hits = (*index)->Search(probes, queries);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_EQ(hits->size(), static_cast<size_t>(c.probes));
  for (int p = 0; p < c.probes; ++p) {
    SCOPED_TRACE(p);
    ExpectSameHits((*hits)[p], BruteForceSearch(gallery, ids, c.dim,
                                                probes.data() + p * c.dim,
                                                queries[p]));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Sweep, FlatIndexVsBruteForce,
    ::testing::Values(FlatCase{8, 50, 10, -1.0f, 5},     // everything passes
                      FlatCase{32, 500, 30, 0.2f, 10},   // BLAS path (>= 20)
                      FlatCase{64, 300, 7, 0.0f, 300},   // top_k = gallery
                      FlatCase{16, 100, 25, 0.99f, 3},   // only self-matches
                      FlatCase{128, 1000, 40, 0.1f, 1}));

TEST(FlatIndex, PerProbeThresholdsAndTopK) {
  const int dim = 16, rows = 200;
  std::mt19937_64 rng(5);
  std::vector<float> gallery = RandomUnitRows(rows, dim, rng);
  std::vector<EntryId> ids(rows);
  std::iota(ids.begin(), ids.end(), 1);
  auto index = FaissFlatIndex::Create(dim);
  ASSERT_TRUE((*index)->Add(ids, gallery).ok());
  std::vector<float> probes = RandomUnitRows(3, dim, rng);
  std::vector<ProbeQuery> queries = {{-1.0f, 1}, {0.1f, 50}, {0.3f, 7}};
  auto hits = (*index)->Search(probes, queries);
  ASSERT_TRUE(hits.ok());
  for (int p = 0; p < 3; ++p) {
    ExpectSameHits((*hits)[p], BruteForceSearch(gallery, ids, dim,
                                                probes.data() + p * dim,
                                                queries[p]));
  }
  EXPECT_EQ((*hits)[0].size(), 1u);
}

TEST(FlatIndex, TiesAreBrokenByAscendingIdAcrossTheTopKBoundary) {
  const int dim = 4;
  // 30 identical vectors: every score ties. ids are added in descending
  // order so FAISS's internal order disagrees with the required one.
  std::vector<float> one = {0.5f, 0.5f, 0.5f, 0.5f};
  std::vector<float> gallery;
  std::vector<EntryId> ids;
  for (int i = 0; i < 30; ++i) {
    gallery.insert(gallery.end(), one.begin(), one.end());
    ids.push_back(100 - i);
  }
  auto index = FaissFlatIndex::Create(dim);
  ASSERT_TRUE((*index)->Add(ids, gallery).ok());
  std::vector<ProbeQuery> queries = {{0.0f, 5}};
  auto hits = (*index)->Search(one, queries);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ((*hits)[0].size(), 5u);
  for (int j = 0; j < 5; ++j) EXPECT_EQ((*hits)[0][j].id, EntryId(71 + j));
}

TEST(FlatIndex, RemoveDropsExactlyThoseIds) {
  const int dim = 8, rows = 40;
  std::mt19937_64 rng(9);
  std::vector<float> gallery = RandomUnitRows(rows, dim, rng);
  std::vector<EntryId> ids(rows);
  std::iota(ids.begin(), ids.end(), 10);
  auto index = FaissFlatIndex::Create(dim);
  ASSERT_TRUE((*index)->Add(ids, gallery).ok());
  std::vector<EntryId> gone = {10, 25, 49};
  ASSERT_TRUE((*index)->Remove(gone).ok());
  EXPECT_EQ((*index)->size(), rows - 3);
  std::vector<ProbeQuery> queries(rows, ProbeQuery{-1.0f, rows});
  auto hits = (*index)->Search(gallery, queries);
  ASSERT_TRUE(hits.ok());
  for (const auto& probe_hits : *hits) {
    EXPECT_EQ(probe_hits.size(), static_cast<size_t>(rows - 3));
    for (const ScoredId& h : probe_hits) {
      EXPECT_NE(h.id, 10u);
      EXPECT_NE(h.id, 25u);
      EXPECT_NE(h.id, 49u);
    }
  }
  EXPECT_EQ((*index)->memory().host_bytes,
            uint64_t(rows - 3) * (dim * 4 + 8));
}

TEST(FlatIndex, EmptyIndexAndBadShapes) {
  auto index = FaissFlatIndex::Create(4);
  std::vector<float> probe = {1, 0, 0, 0};
  std::vector<ProbeQuery> queries = {{0.0f, 3}};
  auto hits = (*index)->Search(probe, queries);
  ASSERT_TRUE(hits.ok());
  EXPECT_TRUE((*hits)[0].empty());
  std::vector<float> short_probe = {1, 0, 0};
  EXPECT_EQ((*index)->Search(short_probe, queries).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(FaissFlatIndex::Create(0).ok());
}

}  // namespace
}  // namespace candor::index
