#include "server/index/faiss_ivf_index.h"

#include <numeric>
#include <random>
#include <set>

#include "gtest/gtest.h"
#include "tests/index/brute_force.h"

namespace candor::index {
namespace {

using ::candor::testing::BruteForceSearch;
using ::candor::testing::RandomUnitRows;

IndexConfig IvfConfig(int dim, int nlist) {
  IndexConfig config;
  config.dimension = dim;
  config.type = IndexType::kIvfFlat;
  config.nlist = nlist;
  config.default_nprobe = 2;
  return config;
}

TEST(IvfIndex, UntrainedServesExactSearch) {
  const int dim = 16, rows = 100;
  std::mt19937_64 rng(3);
  auto gallery = RandomUnitRows(rows, dim, rng);
  std::vector<EntryId> ids(rows);
  std::iota(ids.begin(), ids.end(), 1);
  auto index = FaissIvfIndex::Create(IvfConfig(dim, 8));
  ASSERT_TRUE(index.ok());
  EXPECT_FALSE((*index)->trained());
  ASSERT_TRUE((*index)->Add(ids, gallery).ok());
  auto probes = RandomUnitRows(4, dim, rng);
  std::vector<ProbeQuery> queries(4, ProbeQuery{0.0f, 10});
  auto hits = (*index)->Search(probes, queries);
  ASSERT_TRUE(hits.ok());
  for (int p = 0; p < 4; ++p) {
    auto want = BruteForceSearch(gallery, ids, dim, probes.data() + p * dim,
                                 queries[p]);
    ASSERT_EQ((*hits)[p].size(), want.size());
    for (size_t j = 0; j < want.size(); ++j) EXPECT_EQ((*hits)[p][j].id, want[j].id);
  }
}

TEST(IvfIndex, AllListsProbedEqualsExactAndFewListsStillFindSelf) {
  const int dim = 32, rows = 2000, nlist = 16;
  std::mt19937_64 rng(11);
  auto gallery = RandomUnitRows(rows, dim, rng);
  std::vector<EntryId> ids(rows);
  std::iota(ids.begin(), ids.end(), 500);
  auto index = FaissIvfIndex::Create(IvfConfig(dim, nlist));
  ASSERT_TRUE((*index)->Train(gallery, 0).ok());
  EXPECT_TRUE((*index)->trained());
  EXPECT_EQ((*index)->size(), 0);  // training empties; caller re-adds
  ASSERT_TRUE((*index)->Add(ids, gallery).ok());

  const int n = 30;
  std::vector<float> probes(gallery.begin(), gallery.begin() + n * dim);
  std::vector<ProbeQuery> exhaustive(n, ProbeQuery{0.0f, 10, nlist});
  auto hits = (*index)->Search(probes, exhaustive);
  ASSERT_TRUE(hits.ok());
  for (int p = 0; p < n; ++p) {
    auto want = BruteForceSearch(gallery, ids, dim, probes.data() + p * dim,
                                 exhaustive[p]);
    ASSERT_EQ((*hits)[p].size(), want.size());
    for (size_t j = 0; j < want.size(); ++j) EXPECT_EQ((*hits)[p][j].id, want[j].id);
  }
  // nprobe = 1: a gallery row's own list holds it, so it is still found first.
  std::vector<ProbeQuery> one_list(n, ProbeQuery{0.0f, 1, 1});
  hits = (*index)->Search(probes, one_list);
  ASSERT_TRUE(hits.ok());
  for (int p = 0; p < n; ++p) {
    ASSERT_EQ((*hits)[p].size(), 1u);
    EXPECT_EQ((*hits)[p][0].id, ids[p]);
  }
  ASSERT_TRUE((*index)->Remove(std::vector<EntryId>{ids[0]}).ok());
  EXPECT_EQ((*index)->size(), rows - 1);
}

TEST(IvfIndex, TrainingNeedsEnoughRows) {
  std::mt19937_64 rng(2);
  auto gallery = RandomUnitRows(10, 8, rng);
  auto index = FaissIvfIndex::Create(IvfConfig(8, 64));
  EXPECT_EQ((*index)->Train(gallery, 0).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(FaissIvfIndex::ChooseNlist(100000), 1264);
  EXPECT_EQ(FaissIvfIndex::ChooseNlist(1000), 25);
  EXPECT_EQ(FaissIvfIndex::ChooseNlist(10), 1);
}

}  // namespace
}  // namespace candor::index
