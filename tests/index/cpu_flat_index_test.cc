// candor's CPU flat index against the float64 oracle, on shapes that are
// multiples of no tile or kernel block, with each BLAS it can run on here;
// and the flat-index contract, run against both CPU flat backends.
#include "server/index/cpu_flat_index.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <numeric>
#include <ostream>
#include <random>
#include <set>
#include <tuple>

#include "gtest/gtest.h"
#include "server/index/faiss_flat_index.h"
#include "server/index/index_factory.h"
#include "tests/index/brute_force.h"

namespace candor::index {
namespace {

using ::candor::testing::BruteForceSearch;
using ::candor::testing::RandomUnitRows;

// float32 accumulation against float64, unit vectors: about sqrt(dim) x
// 2^-24 on average, far less than this even at dimension 4096.
constexpr double kScoreTolerance = 2e-5;

// `got` is the oracle's answer up to float rounding: best first with ties
// by ascending id, every hit a real entry with its true score, nothing
// missing that beats the last hit (or the threshold) by more than the
// rounding, nothing below the threshold.
void ExpectMatchesOracle(const std::vector<ScoredId>& got,
                         const std::vector<float>& gallery,
                         const std::vector<EntryId>& ids, int dim,
                         const float* probe, const ProbeQuery& query) {
  std::map<EntryId, double> truth;
  for (size_t r = 0; r < ids.size(); ++r) {
    double dot = 0;
    for (int c = 0; c < dim; ++c) {
      dot += double{gallery[r * dim + c]} * double{probe[c]};
    }
    truth[ids[r]] = dot;
  }
  const size_t top_k = static_cast<size_t>(std::max(query.top_k, 0));
  ASSERT_LE(got.size(), top_k);
  std::set<EntryId> seen;
  for (size_t j = 0; j < got.size(); ++j) {
    SCOPED_TRACE(::testing::Message() << "rank " << j);
    ASSERT_TRUE(truth.count(got[j].id) > 0) << "unknown id " << got[j].id;
    EXPECT_TRUE(seen.insert(got[j].id).second) << "duplicate " << got[j].id;
    EXPECT_NEAR(got[j].score, truth[got[j].id], kScoreTolerance);
    EXPECT_GE(got[j].score, query.threshold);
    if (j > 0) {
      EXPECT_TRUE(BetterCandidate(got[j - 1], got[j]));
    }
  }
  if (top_k == 0) return;  // nothing asked, nothing missing
  const double floor = got.size() == top_k
                           ? double{got.back().score} + kScoreTolerance
                           : double{query.threshold} + kScoreTolerance;
  for (const auto& [id, score] : truth) {
    if (seen.count(id) > 0) continue;
    EXPECT_LT(score, floor) << "missing id " << id << " score " << score;
  }
}

// An index over one of the BLAS libraries this machine can load.
enum class Gemm { kServing, kProcessOpenBlas };

const CpuBlas& BlasFor(Gemm gemm) {
  if (gemm == Gemm::kServing) return ServingBlas();
  // The OpenBLAS that FAISS links, already in the process.
  static const CpuBlas* const blas =
      CpuBlas::Load(CpuBlas::Flavor::kOpenBlas, "", "", false)->release();
  return *blas;
}

// dimension, gallery rows, probes, tile rows (0 = the index's choice).
using Shape = std::tuple<int, int, int, int>;

class CpuFlatVsOracle
    : public ::testing::TestWithParam<std::tuple<Shape, Gemm>> {};

TEST_P(CpuFlatVsOracle, SameAnswerUpToRounding) {
  const auto [shape, gemm] = GetParam();
  const auto [dim, rows, probes, tile_rows] = shape;
  // More workers than tiles on some shapes, several tiles each on others
  // (a multi-threaded BLAS gets one worker: kProcessOpenBlas).
  SetCpuFlatThreads(3);
  std::mt19937_64 rng(77 + dim * 3 + rows * 5 + probes);
  std::vector<float> gallery = RandomUnitRows(rows, dim, rng);
  std::vector<EntryId> ids(rows);
  // Sparse and descending: row order disagrees with id order.
  for (int i = 0; i < rows; ++i) ids[i] = 100000 - 13 * i;
  CpuFlatIndex::Options options;
  options.tile_rows = tile_rows;
  options.blas = &BlasFor(gemm);
  options.min_parallel_flops = 0;  // workers even on the small shapes
  auto index = CpuFlatIndex::Create(dim, options);
  ASSERT_TRUE(index.ok()) << index.status();
  ASSERT_TRUE((*index)->Add(ids, gallery).ok());

  // Every third probe is a gallery row; per-probe thresholds and top_k,
  // from "everything" to "nothing".
  std::vector<float> probe_rows = RandomUnitRows(probes, dim, rng);
  for (int p = 0; p < probes; p += 3) {
    std::copy_n(gallery.data() + (p % rows) * dim, dim,
                probe_rows.data() + p * dim);
  }
  const ProbeQuery kinds[] = {{-2.0f, 10}, {0.0f, 5},  {0.05f, 1000},
                              {0.5f, 3},   {-1.0f, 1}, {0.0f, 0},
                              {1.5f, 10}};
  std::vector<ProbeQuery> queries(probes);
  for (int p = 0; p < probes; ++p) queries[p] = kinds[p % 7];

  auto hits = (*index)->Search(probe_rows, queries);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_EQ(hits->size(), static_cast<size_t>(probes));
  for (int p = 0; p < probes; ++p) {
    SCOPED_TRACE(::testing::Message() << "probe " << p);
    ExpectMatchesOracle((*hits)[p], gallery, ids, dim,
                        probe_rows.data() + p * dim, queries[p]);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CpuFlatVsOracle,
    ::testing::Combine(
        ::testing::Values(Shape{3, 1, 1, 0}, Shape{3, 7, 7, 0},
                          Shape{3, 513, 513, 0}, Shape{3, 513, 7, 5},
                          Shape{129, 1, 513, 0}, Shape{129, 7, 1, 3},
                          Shape{129, 513, 7, 0}, Shape{129, 513, 513, 64},
                          Shape{4096, 1, 7, 0}, Shape{4096, 7, 513, 0},
                          Shape{4096, 513, 1, 0}, Shape{4096, 513, 7, 100}),
        ::testing::Values(Gemm::kServing, Gemm::kProcessOpenBlas)));

// Scores exact in float whatever the summation order (multiples of 1/4 of
// unit vectors with entries +-1/2), so ties are true ties.
std::vector<float> Quarter(int sign_of_last) {
  return {0.5f, 0.5f, 0.5f, 0.5f * sign_of_last};
}

TEST(CpuFlatIndex, TiesAtTheBoundaryGoToTheSmallestIdsAcrossTiles) {
  // 300 copies of u (score 1 with u) and 300 of v (score 0.5), interleaved,
  // ids descending, over tiles of 7 rows.
  std::vector<float> gallery;
  std::vector<EntryId> ids;
  for (int i = 0; i < 600; ++i) {
    const std::vector<float> row = Quarter(i % 2 == 0 ? 1 : -1);
    gallery.insert(gallery.end(), row.begin(), row.end());
    ids.push_back(10000 - i);
  }
  // Tiles of 7 rows over three workers: each worker's heap sees only some
  // of the tied entries, and the merge must still pick the smallest ids.
  SetCpuFlatThreads(3);
  for (int tile : {0, 7}) {
    SCOPED_TRACE(::testing::Message() << "tile " << tile);
    CpuFlatIndex::Options options;
    options.tile_rows = tile;
    options.min_parallel_flops = 0;
    auto index = CpuFlatIndex::Create(4, options);
    ASSERT_TRUE(index.ok());
    ASSERT_TRUE((*index)->Add(ids, gallery).ok());
    const std::vector<float> u = Quarter(1);
    // top_k inside the u's; past them (the v's decide by id); threshold at
    // the v's score exactly (inclusive) and just above it.
    const std::vector<ProbeQuery> queries = {
        {0.0f, 5}, {0.0f, 305}, {0.5f, 1000}, {0.5000001f, 1000}};
    std::vector<float> probes;
    for (size_t q = 0; q < queries.size(); ++q) {
      probes.insert(probes.end(), u.begin(), u.end());
    }
    auto hits = (*index)->Search(probes, queries);
    ASSERT_TRUE(hits.ok());
    for (size_t q = 0; q < queries.size(); ++q) {
      EXPECT_EQ((*hits)[q], BruteForceSearch(gallery, ids, 4,
                                             probes.data() + q * 4,
                                             queries[q]))
          << "query " << q;
    }
    ASSERT_EQ((*hits)[0].size(), 5u);
    // The u's carry the even offsets: ids 10000 - 598 ... upwards by 2.
    EXPECT_EQ((*hits)[0][0].id, EntryId(10000 - 598));
    EXPECT_EQ((*hits)[0][4].id, EntryId(10000 - 590));
    EXPECT_EQ((*hits)[1].size(), 305u);
    EXPECT_EQ((*hits)[1].back(), (ScoredId{EntryId(10000 - 591), 0.5f}));
    EXPECT_EQ((*hits)[2].size(), 600u);
    EXPECT_EQ((*hits)[3].size(), 300u);
  }
}

TEST(CpuFlatIndex, RemovesAndReAddsMatchTheOracle) {
  const int dim = 129, rows = 513;
  std::mt19937_64 rng(31);
  std::vector<float> gallery = RandomUnitRows(rows, dim, rng);
  std::vector<EntryId> ids(rows);
  std::iota(ids.begin(), ids.end(), 1);
  CpuFlatIndex::Options options;
  options.tile_rows = 64;
  auto index = CpuFlatIndex::Create(dim, options);
  ASSERT_TRUE((*index)->Add(ids, gallery).ok());

  // Remove the first, the last and every third row in between.
  std::vector<EntryId> gone = {1, EntryId(rows)};
  for (int i = 3; i < rows; i += 3) gone.push_back(EntryId(i));
  ASSERT_TRUE((*index)->Remove(gone).ok());
  std::vector<float> live_rows;
  std::vector<EntryId> live_ids;
  const std::set<EntryId> gone_set(gone.begin(), gone.end());
  for (int r = 0; r < rows; ++r) {
    if (gone_set.count(ids[r]) > 0) continue;
    live_ids.push_back(ids[r]);
    live_rows.insert(live_rows.end(), gallery.begin() + r * dim,
                     gallery.begin() + (r + 1) * dim);
  }
  EXPECT_EQ((*index)->size(), static_cast<int64_t>(live_ids.size()));

  // Re-added under new ids with new vectors.
  std::vector<EntryId> fresh;
  for (size_t i = 0; i < gone.size(); ++i) fresh.push_back(5000 + i);
  std::vector<float> fresh_rows = RandomUnitRows(fresh.size(), dim, rng);
  ASSERT_TRUE((*index)->Add(fresh, fresh_rows).ok());
  live_ids.insert(live_ids.end(), fresh.begin(), fresh.end());
  live_rows.insert(live_rows.end(), fresh_rows.begin(), fresh_rows.end());
  EXPECT_EQ((*index)->size(), rows);

  std::vector<float> probes = RandomUnitRows(9, dim, rng);
  std::copy_n(fresh_rows.data(), dim, probes.data());  // a re-added row
  std::copy_n(live_rows.data(), dim, probes.data() + dim);
  std::vector<ProbeQuery> queries(9, ProbeQuery{-1.0f, 20});
  queries[8] = ProbeQuery{-1.0f, rows};  // the whole index
  auto hits = (*index)->Search(probes, queries);
  ASSERT_TRUE(hits.ok());
  for (int p = 0; p < 9; ++p) {
    SCOPED_TRACE(::testing::Message() << "probe " << p);
    ExpectMatchesOracle((*hits)[p], live_rows, live_ids, dim,
                        probes.data() + p * dim, queries[p]);
  }
  EXPECT_EQ((*hits)[0][0].id, fresh[0]);
  for (const ScoredId& h : (*hits)[8]) EXPECT_FALSE(gone_set.count(h.id) > 0);
}

TEST(CpuFlatIndex, RejectedCallsChangeNothing) {
  auto index = CpuFlatIndex::Create(4);
  ASSERT_TRUE(index.ok());
  const std::vector<float> rows = {0.5f, 0.5f, 0.5f, 0.5f,
                                   1.0f, 0.0f, 0.0f, 0.0f};
  const std::vector<EntryId> ids = {1, 2};
  ASSERT_TRUE((*index)->Add(ids, rows).ok());
  const uint64_t bytes = (*index)->memory().host_bytes;
  EXPECT_GE(bytes, 2u * (4 * sizeof(float) + sizeof(EntryId)));

  const std::vector<EntryId> dup = {3, 2};
  EXPECT_EQ((*index)->Add(dup, rows).code(), absl::StatusCode::kAlreadyExists);
  const std::vector<EntryId> twice = {3, 3};
  EXPECT_EQ((*index)->Add(twice, rows).code(),
            absl::StatusCode::kAlreadyExists);
  const std::vector<EntryId> one = {3};
  EXPECT_EQ((*index)->Add(one, rows).code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<EntryId> missing = {1, 9};
  EXPECT_EQ((*index)->Remove(missing).code(), absl::StatusCode::kNotFound);
  const std::vector<EntryId> repeated = {1, 1};
  EXPECT_EQ((*index)->Remove(repeated).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*index)->size(), 2);

  const std::vector<float> probe = {1.0f, 0.0f, 0.0f, 0.0f};
  const std::vector<ProbeQuery> all = {{-1.0f, 10}};
  auto hits = (*index)->Search(probe, all);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ((*hits)[0], (std::vector<ScoredId>{{2, 1.0f}, {1, 0.5f}}));
  const std::vector<float> short_probe = {1.0f, 0.0f};
  EXPECT_EQ((*index)->Search(short_probe, all).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(CpuFlatIndex::Create(0).ok());
  CpuFlatIndex::Options negative;
  negative.tile_rows = -1;
  EXPECT_FALSE(CpuFlatIndex::Create(4, negative).ok());
}

TEST(CpuFlatIndex, EmptyIndexAndEmptyBatch) {
  auto index = CpuFlatIndex::Create(3);
  const std::vector<float> probe = {1.0f, 0.0f, 0.0f};
  const std::vector<ProbeQuery> one = {{0.0f, 3}};
  auto hits = (*index)->Search(probe, one);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_TRUE((*hits)[0].empty());
  auto none = (*index)->Search({}, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(CpuBlas, ServingLibraryNamesItselfAndItsCore) {
  const BlasInfo& info = ServingBlas().info();
  EXPECT_FALSE(info.library.empty());
  EXPECT_FALSE(info.version.empty());
  EXPECT_FALSE(info.core.empty());
  EXPECT_NE(info.Describe().find(info.core), std::string::npos);
  if (!BuiltScipyOpenBlasPath().empty()) {
    // The build found scipy-openblas: it serves, on its own CPU detection.
    EXPECT_EQ(info.library, "scipy-openblas");
    EXPECT_EQ(info.path, BuiltScipyOpenBlasPath());
    EXPECT_FALSE(info.read_forced_core);
  }
  // Whatever the load did to the environment, it put it back.
  EXPECT_EQ(info.forced_core, std::getenv("OPENBLAS_CORETYPE") == nullptr
                                  ? ""
                                  : std::getenv("OPENBLAS_CORETYPE"));
  ServingBlas().SetThreads(1);
  EXPECT_EQ(ServingBlas().threads(), 1);
}

// The flat-index contract, for each CPU flat backend the factory builds.
class CpuFlatBackends : public ::testing::TestWithParam<Backend> {};

TEST_P(CpuFlatBackends, ContractAgainstTheOracle) {
  IndexConfig config;
  config.dimension = 32;
  auto index = CreateIndex(config, GetParam());
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ((*index)->backend(),
            GetParam() == Backend::kCpu ? "cpu-flat" : "faiss-cpu");
  std::mt19937_64 rng(3);
  std::vector<float> gallery = RandomUnitRows(300, 32, rng);
  std::vector<EntryId> ids(300);
  std::iota(ids.begin(), ids.end(), 7);
  ASSERT_TRUE((*index)->Add(ids, gallery).ok());
  EXPECT_EQ((*index)->size(), 300);
  EXPECT_EQ((*index)->dimension(), 32);
  EXPECT_TRUE((*index)->trained());
  EXPECT_GE((*index)->memory().host_bytes, 300u * 32 * sizeof(float));
  std::vector<float> probes = RandomUnitRows(40, 32, rng);
  std::vector<ProbeQuery> queries(40);
  for (int p = 0; p < 40; ++p) queries[p] = {p % 2 ? 0.1f : -1.0f, 1 + p % 12};
  auto hits = (*index)->Search(probes, queries);
  ASSERT_TRUE(hits.ok());
  for (int p = 0; p < 40; ++p) {
    ExpectMatchesOracle((*hits)[p], gallery, ids, 32, probes.data() + p * 32,
                        queries[p]);
  }
}

INSTANTIATE_TEST_SUITE_P(Both, CpuFlatBackends,
                         ::testing::Values(Backend::kCpu, Backend::kFaissCpu),
                         [](const auto& info) {
                           return info.param == Backend::kCpu ? "CpuFlat"
                                                              : "FaissCpu";
                         });

}  // namespace
}  // namespace candor::index
