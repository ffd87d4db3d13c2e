#include "server/index/faiss_threads.h"

#include <omp.h>

#include <random>
#include <thread>

#include "gtest/gtest.h"
#include "server/index/faiss_flat_index.h"
#include "tests/index/brute_force.h"

namespace candor::index {
namespace {

// Runs fn on a thread of its own (a fresh OpenMP ICV, as a gRPC or batcher
// thread has) and returns omp_get_max_threads() as seen there afterwards.
template <typename Fn>
int MaxThreadsAfter(Fn fn) {
  int seen = 0;
  std::thread t([&] {
    fn();
    seen = omp_get_max_threads();
  });
  t.join();
  return seen;
}

class FaissThreadsTest : public ::testing::Test {
 protected:
  void TearDown() override { SetFaissOpenMpThreads(1); }
};

TEST_F(FaissThreadsTest, ApplyReachesThreadsStartedAnywhere) {
  SetFaissOpenMpThreads(1);
  EXPECT_EQ(MaxThreadsAfter([] { ApplyFaissOpenMpThreads(); }), 1);
  SetFaissOpenMpThreads(3);
  EXPECT_EQ(MaxThreadsAfter([] { ApplyFaissOpenMpThreads(); }), 3);
}

TEST_F(FaissThreadsTest, LaterChangeReachesAThreadAlreadySetUp) {
  SetFaissOpenMpThreads(1);
  int before = 0, after = 0;
  std::thread t([&] {
    ApplyFaissOpenMpThreads();
    before = omp_get_max_threads();
    SetFaissOpenMpThreads(2);
    ApplyFaissOpenMpThreads();
    after = omp_get_max_threads();
  });
  t.join();
  EXPECT_EQ(before, 1);
  EXPECT_EQ(after, 2);
}

TEST_F(FaissThreadsTest, ValuesBelowOneMeanOne) {
  SetFaissOpenMpThreads(0);
  EXPECT_EQ(MaxThreadsAfter([] { ApplyFaissOpenMpThreads(); }), 1);
}

// The point of it all: a search made on a thread main() never touched runs
// FAISS with the configured team, not one as wide as the machine.
TEST_F(FaissThreadsTest, SearchOnAFreshThreadUsesTheConfiguredTeam) {
  SetFaissOpenMpThreads(1);
  std::mt19937_64 rng(7);
  constexpr int kDim = 16;
  auto index = FaissFlatIndex::Create(kDim);
  ASSERT_TRUE(index.ok()) << index.status();
  std::vector<float> rows = ::candor::testing::RandomUnitRows(64, kDim, rng);
  std::vector<EntryId> ids(64);
  for (int i = 0; i < 64; ++i) ids[i] = i;
  ASSERT_TRUE((*index)->Add(ids, rows).ok());
  std::vector<ProbeQuery> queries(1, ProbeQuery{-1.0f, 5});
  const int seen = MaxThreadsAfter([&] {
    auto hits =
        (*index)->Search(absl::MakeConstSpan(rows.data(), kDim), queries);
    ASSERT_TRUE(hits.ok()) << hits.status();
    EXPECT_EQ((*hits)[0].size(), 5u);
  });
  EXPECT_EQ(seen, 1);
}

}  // namespace
}  // namespace candor::index
