// GpuFlatIndex against an exact CPU brute force (double-precision dot
// products of the same fp32 vectors) on synthetic galleries.
#include "server/index/gpu/gpu_flat_index.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"
#include "kernels/normalize.h"
#include "kernels/select_topk.h"
#include "server/index/gpu/gpu_backend.h"
#include "tests/gpu/gpu_test_util.h"
#include "tests/lib/random_rows.h"

namespace candor::index::gpu {
namespace {

using candor::testing::GpuTest;
using candor::testing::RandomUnitRows;

// |GPU score - exact score| bounds. fp16 storage: each unit-vector component
// is rounded with relative error <= 2^-11 (gallery and probe), so a cosine
// moves by well under 1e-3 at d = 512; 2e-3 leaves margin for fp32
// accumulation order. fp32 storage: only the accumulation order differs.
constexpr float kFp16ScoreTolerance = 2e-3f;
constexpr float kFp32ScoreTolerance = 1e-5f;

constexpr int kDim = 512;

// Probes: half are noisy copies of gallery rows (high scores, so k and the
// threshold both bind), half random (only low scores).
std::vector<float> MakeProbes(const std::vector<float>& gallery, int64_t n,
                              int dim, std::mt19937& rng) {
  const int64_t rows = static_cast<int64_t>(gallery.size()) / dim;
  std::vector<float> probes = RandomUnitRows(n, dim, rng);
  std::uniform_int_distribution<int64_t> pick(0, rows - 1);
  for (int64_t p = 0; p < n; p += 2) {
    const int64_t r = pick(rng);
    double norm = 0.0;
    for (int c = 0; c < dim; ++c) {
      float& x = probes[p * dim + c];
      x = gallery[r * dim + c] + 0.02f * x;
      norm += double(x) * x;
    }
    for (int c = 0; c < dim; ++c) {
      probes[p * dim + c] = float(probes[p * dim + c] / std::sqrt(norm));
    }
  }
  return probes;
}

// The oracle: exact scores of one probe against the live gallery.
struct Oracle {
  std::vector<EntryId> ids;
  std::vector<float> vectors;  // row-major, live rows only
  absl::flat_hash_map<EntryId, double> Scores(const float* probe,
                                              int dim) const {
    absl::flat_hash_map<EntryId, double> s;
    for (size_t r = 0; r < ids.size(); ++r) {
      double dot = 0.0;
      for (int c = 0; c < dim; ++c) {
        dot += double(vectors[r * dim + c]) * probe[c];
      }
      s[ids[r]] = dot;
    }
    return s;
  }
};

// Checks one probe's hits against exact scores, allowing differences only
// where the tolerance makes them legitimate: a candidate whose exact score
// lies within `tol` of the threshold, or of the exact k-th score, may be in
// or out. Everything else must match: the same candidates, scores within
// `tol`, best first, at most top_k.
void ExpectHitsMatch(const std::vector<ScoredId>& hits,
                     const absl::flat_hash_map<EntryId, double>& exact,
                     const ProbeQuery& query, float tol, int64_t probe) {
  SCOPED_TRACE(::testing::Message() << "probe " << probe);
  std::vector<std::pair<double, EntryId>> ranked;
  for (const auto& [id, score] : exact) {
    if (score >= query.threshold - tol) ranked.push_back({score, id});
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  // Cut: max(threshold, exact k-th score among those >= threshold).
  double cut = query.threshold;
  int above = 0;
  for (const auto& [score, id] : ranked) {
    if (score >= query.threshold && ++above == query.top_k) {
      cut = std::max(cut, score);
      break;
    }
  }
  ASSERT_LE(static_cast<int>(hits.size()), query.top_k);
  absl::flat_hash_set<EntryId> got;
  for (size_t i = 0; i < hits.size(); ++i) {
    const ScoredId& h = hits[i];
    ASSERT_TRUE(exact.contains(h.id)) << "unknown or removed id " << h.id;
    EXPECT_NEAR(h.score, exact.at(h.id), tol) << "id " << h.id;
    EXPECT_GE(h.score, query.threshold) << "id " << h.id;
    EXPECT_GE(exact.at(h.id), cut - 2 * tol) << "id " << h.id;
    if (i > 0) {
      EXPECT_TRUE(BetterCandidate(hits[i - 1], h)) << "order at " << i;
    }
    got.insert(h.id);
  }
  // Every candidate clearly inside (beyond the band) must be returned.
  for (const auto& [score, id] : ranked) {
    if (score < cut + 2 * tol) break;
    EXPECT_TRUE(got.contains(id)) << "missing id " << id << " score " << score;
  }
}

struct Case {
  const char* name = "";
  bool fp16 = true;
  int64_t gallery_rows = 0;
  int64_t probes = 0;
  int64_t tile_budget_bytes = 0;  // 0 = from the device's L2
  int max_batch_probes = 4096;
  int64_t min_cols_per_split = 4096;
};

// gtest prints a parameter in test listings; the name says it all.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class GpuFlatIndexTest : public GpuTest,
                         public ::testing::WithParamInterface<Case> {};

void CheckAll(const GpuFlatIndex& index, const Oracle& oracle,
              const std::vector<float>& probes,
              const std::vector<ProbeQuery>& queries, float tol) {
  auto hits = index.Search(probes, queries);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_EQ(hits->size(), queries.size());
  for (size_t p = 0; p < queries.size(); ++p) {
    ExpectHitsMatch((*hits)[p], oracle.Scores(&probes[p * kDim], kDim),
                    queries[p], tol, static_cast<int64_t>(p));
  }
}

// Mixed per-probe top_k and thresholds in one batch.
std::vector<ProbeQuery> MixedQueries(int64_t n) {
  const int ks[] = {1, 10, 100, 1024};
  const float thresholds[] = {-1.0f, 0.05f, 0.1f, 0.5f, 0.99f};
  std::vector<ProbeQuery> q(static_cast<size_t>(n));
  for (int64_t p = 0; p < n; ++p) {
    q[p].top_k = ks[p % 4];
    q[p].threshold = thresholds[(p / 4) % 5];
  }
  return q;
}

TEST_P(GpuFlatIndexTest, GrowsRemovesAndMatchesBruteForce) {
  const Case c = GetParam();
  const float tol = c.fp16 ? kFp16ScoreTolerance : kFp32ScoreTolerance;
  std::mt19937 rng(static_cast<uint32_t>(c.gallery_rows + c.probes));
  GpuFlatIndexOptions options;
  options.dimension = kDim;
  options.fp16_storage = c.fp16;
  options.initial_capacity_rows = 1000;
  options.score_tile_budget_bytes = c.tile_budget_bytes;
  options.max_batch_probes = c.max_batch_probes;
  options.selection_min_cols_per_block = c.min_cols_per_split;
  auto index = GpuFlatIndex::Create(options);
  ASSERT_TRUE(index.ok()) << index.status();

  // Added in uneven chunks: the device buffer grows geometrically.
  Oracle oracle;
  oracle.vectors = RandomUnitRows(c.gallery_rows, kDim, rng);
  for (int64_t r = 0; r < c.gallery_rows; ++r) {
    oracle.ids.push_back(static_cast<EntryId>(1000 + 13 * r));
  }
  int64_t added = 0;
  for (int64_t chunk = 700; added < c.gallery_rows; chunk *= 2) {
    const int64_t n = std::min(chunk, c.gallery_rows - added);
    ASSERT_TRUE(
        (*index)
            ->Add(absl::MakeConstSpan(&oracle.ids[added], n),
                  absl::MakeConstSpan(&oracle.vectors[added * kDim], n * kDim))
            .ok());
    added += n;
    EXPECT_GE((*index)->capacity_rows(), added);
    EXPECT_LE((*index)->capacity_rows(), std::max<int64_t>(1000, 2 * added));
  }
  EXPECT_EQ((*index)->size(), c.gallery_rows);

  const std::vector<float> probes =
      MakeProbes(oracle.vectors, c.probes, kDim, rng);
  const std::vector<ProbeQuery> queries = MixedQueries(c.probes);
  CheckAll(**index, oracle, probes, queries, tol);

  // The index normalizes on the device (the server only checks the rows):
  // the same probes at scales from 1e-3 to 1e3 must find the same
  // candidates at the same scores.
  ASSERT_TRUE((*index)->NormalizesProbes());
  std::vector<float> scaled = probes;
  for (int64_t p = 0; p < c.probes; ++p) {
    const float scale = std::pow(10.0f, static_cast<float>(p % 7) - 3.0f);
    for (int d = 0; d < kDim; ++d) scaled[p * kDim + d] *= scale;
  }
  auto scaled_hits = (*index)->Search(scaled, queries);
  ASSERT_TRUE(scaled_hits.ok()) << scaled_hits.status();
  for (int64_t p = 0; p < c.probes; ++p) {
    ExpectHitsMatch((*scaled_hits)[p], oracle.Scores(&probes[p * kDim], kDim),
                    queries[p], tol, p);
  }

  // Remove 10% (tombstones), check; then 25% more (compaction), check.
  for (double fraction : {0.1, 0.25}) {
    std::vector<EntryId> remove;
    Oracle kept;
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (size_t r = 0; r < oracle.ids.size(); ++r) {
      if (u(rng) < fraction) {
        remove.push_back(oracle.ids[r]);
      } else {
        kept.ids.push_back(oracle.ids[r]);
        kept.vectors.insert(kept.vectors.end(), &oracle.vectors[r * kDim],
                            &oracle.vectors[(r + 1) * kDim]);
      }
    }
    ASSERT_TRUE((*index)->Remove(remove).ok());
    oracle = std::move(kept);
    EXPECT_EQ((*index)->size(), static_cast<int64_t>(oracle.ids.size()));
    CheckAll(**index, oracle, probes, queries, tol);
  }
  // After more than 25% removed, compaction left only live rows.
  EXPECT_EQ((*index)->stored_rows(), (*index)->size());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GpuFlatIndexTest,
    ::testing::Values(
        // One tile per pass.
        Case{"Fp16OneTile", true, 6000, 40, 0, 4096},
        Case{"Fp32OneTile", false, 6000, 40, 0, 4096},
        // Tiny tiles (budget 64 KiB: 256 columns at 64 probes): many tiles,
        // both streams, the fused merge, a partial last tile.
        Case{"Fp16ManyTiles", true, 5000, 64, 64 * 1024, 4096},
        Case{"Fp32ManyTiles", false, 5000, 64, 64 * 1024, 4096},
        // Several passes (max 24 probes per pass, 50 probes).
        Case{"Fp16SeveralPasses", true, 3000, 50, 32 * 1024, 24},
        // Split selection (few probes, slices of >= 300 columns), one tile
        // and several.
        Case{"Fp16SplitSelection", true, 6000, 5, 0, 4096, 300},
        Case{"Fp32SplitSelectionManyTiles", false, 6000, 3, 8 * 1024, 4096,
             300}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return std::string(info.param.name);
    });

class GpuFlatIndexApiTest : public GpuTest {
 protected:
  std::unique_ptr<GpuFlatIndex> Make(bool fp16) {
    GpuFlatIndexOptions options;
    options.dimension = 8;
    options.fp16_storage = fp16;
    auto index = GpuFlatIndex::Create(options);
    EXPECT_TRUE(index.ok()) << index.status();
    return index.ok() ? *std::move(index) : nullptr;
  }
};

TEST_F(GpuFlatIndexApiTest, CallerErrorsAreSpecificStatuses) {
  auto index = Make(true);
  ASSERT_NE(index, nullptr);
  std::vector<float> v(16, 0.25f);
  EXPECT_EQ(index->Add(std::vector<EntryId>{1}, v).code(),
            absl::StatusCode::kInvalidArgument);  // 16 floats for one id
  ASSERT_TRUE(index->Add(std::vector<EntryId>{1, 2}, v).ok());
  EXPECT_EQ(index->Add(std::vector<EntryId>{2}, std::vector<float>(8)).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(index
                ->Add(std::vector<EntryId>{kernels::kRemovedId},
                      std::vector<float>(8))
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Remove(std::vector<EntryId>{77}).code(),
            absl::StatusCode::kNotFound);
  for (int k : {0, kernels::kMaxTopK + 1}) {
    ProbeQuery q;
    q.top_k = k;
    EXPECT_EQ(index->Search(std::vector<float>(8, 0.3f), {q}).status().code(),
              absl::StatusCode::kInvalidArgument)
        << k;
  }
  EXPECT_EQ(
      index->Search(std::vector<float>(7), {ProbeQuery{}}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

// A row the device kernel cannot normalize is the CPU's InvalidArgument,
// naming the row across passes; the index is unchanged and still serves.
TEST_F(GpuFlatIndexApiTest, BadProbeRowsAreNamedLikeOnTheCpu) {
  for (bool fp16 : {true, false}) {
    GpuFlatIndexOptions options;
    options.dimension = 8;
    options.fp16_storage = fp16;
    options.max_batch_probes = 2;  // row 3 is in the second pass
    auto index = GpuFlatIndex::Create(options);
    ASSERT_TRUE(index.ok()) << index.status();
    ASSERT_TRUE((*index)
                    ->Add(std::vector<EntryId>{1, 2},
                          std::vector<float>(16, 0.25f * 1.41421356f))
                    .ok());
    const std::vector<ProbeQuery> queries(4, ProbeQuery{-1.0f, 2, 0});
    for (float bad : {0.0f, std::numeric_limits<float>::quiet_NaN(),
                      std::numeric_limits<float>::infinity()}) {
      std::vector<float> probes(32, 3.0f);
      for (int d = 0; d < 8; ++d) {
        if (bad == 0.0f || d == 5) probes[3 * 8 + d] = bad;
      }
      std::vector<float> cpu = probes;
      const absl::Status expected =
          kernels::L2NormalizeRowsInPlace(cpu.data(), 4, 8, "probes");
      ASSERT_FALSE(expected.ok());
      auto hits = (*index)->Search(probes, queries);
      EXPECT_EQ(hits.status(), expected) << fp16 << " " << bad;
    }
    auto hits = (*index)->Search(std::vector<float>(32, 3.0f), queries);
    ASSERT_TRUE(hits.ok()) << hits.status();
    ASSERT_EQ((*hits)[3].size(), 2u);
    EXPECT_NEAR((*hits)[3][0].score, 1.0f, 2e-3f);
  }
}

TEST_F(GpuFlatIndexApiTest, EmptyIndexAndEmptyBatch) {
  auto index = Make(true);
  ASSERT_NE(index, nullptr);
  auto hits =
      index->Search(std::vector<float>(16, 0.1f), {ProbeQuery{}, ProbeQuery{}});
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_TRUE((*hits)[0].empty() && (*hits)[1].empty());
  auto none = index->Search({}, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(GpuFlatIndexApiTest, Fp16StorageHalvesGalleryDeviceBytes) {
  auto fp16 = Make(true);
  auto fp32 = Make(false);
  ASSERT_NE(fp16, nullptr);
  ASSERT_NE(fp32, nullptr);
  std::vector<EntryId> ids(5000);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = i + 1;
  std::vector<float> v(ids.size() * 8, 0.5f);
  ASSERT_TRUE(fp16->Add(ids, v).ok());
  ASSERT_TRUE(fp32->Add(ids, v).ok());
  const MemoryBytes m16 = fp16->memory();
  const MemoryBytes m32 = fp32->memory();
  // Rows: 16 vs 32 bytes, plus 8 bytes of id each, plus staging.
  EXPECT_GE(m16.device_bytes,
            static_cast<uint64_t>(fp16->capacity_rows()) * 24);
  EXPECT_LT(m16.device_bytes, m32.device_bytes);
  EXPECT_GT(m16.host_bytes, ids.size() * sizeof(EntryId));
}

// A compaction that fails after the rows were tombstoned: the removal is
// reported done (a retry would be NotFound), the failure is kept apart, the
// rows are never found again, and the next removal compacts.
TEST_F(GpuFlatIndexApiTest, FailedCompactionStillReportsTheRemoval) {
  GpuFlatIndexOptions options;
  options.dimension = 8;
  options.compaction_fraction = 0.25;
  auto created = GpuFlatIndex::Create(options);
  ASSERT_TRUE(created.ok()) << created.status();
  GpuFlatIndex& index = **created;
  std::mt19937 rng(5);
  const std::vector<float> rows = RandomUnitRows(8, 8, rng);
  const std::vector<EntryId> ids = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_TRUE(index.Add(ids, rows).ok());
  EXPECT_TRUE(index.compaction_status().ok());

  index.FailNextCompactionForTest(absl::ResourceExhaustedError("no memory"));
  // 3 of 8 removed: over 25%, so a compaction runs and fails.
  EXPECT_TRUE(index.Remove(std::vector<EntryId>{1, 2, 3}).ok());
  EXPECT_EQ(index.compaction_status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(index.size(), 5);
  EXPECT_EQ(index.stored_rows(), 8);  // still tombstones
  EXPECT_EQ(index.Remove(std::vector<EntryId>{2}).code(),
            absl::StatusCode::kNotFound);
  // Each removed row's own vector finds only live rows.
  const std::vector<ProbeQuery> queries(3, ProbeQuery{-1.0f, 8, 0});
  auto hits = index.Search(
      std::vector<float>(rows.begin(), rows.begin() + 3 * 8), queries);
  ASSERT_TRUE(hits.ok()) << hits.status();
  for (const auto& probe_hits : *hits) {
    EXPECT_EQ(probe_hits.size(), 5u);
    for (const ScoredId& hit : probe_hits) EXPECT_GT(hit.id, 3u);
  }

  // The next removal compacts.
  EXPECT_TRUE(index.Remove(std::vector<EntryId>{4}).ok());
  EXPECT_TRUE(index.compaction_status().ok()) << index.compaction_status();
  EXPECT_EQ(index.stored_rows(), 4);
  EXPECT_EQ(index.size(), 4);
}

// The benchmark's knobs: GEMM-only passes return no hits and time > 0;
// the sort skip and the L2 share change no result.
TEST_F(GpuFlatIndexApiTest, SearchTuningChangesNoResult) {
  GpuFlatIndexOptions options;
  options.dimension = kDim;
  options.selection_min_cols_per_block = 300;
  auto created = GpuFlatIndex::Create(options);
  ASSERT_TRUE(created.ok()) << created.status();
  GpuFlatIndex& index = **created;
  std::mt19937 rng(11);
  const std::vector<float> rows = RandomUnitRows(20000, kDim, rng);
  std::vector<EntryId> ids(20000);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = 100 + i;
  ASSERT_TRUE(index.Add(ids, rows).ok());
  const std::vector<float> probes = MakeProbes(rows, 300, kDim, rng);
  const std::vector<ProbeQuery> queries(300, ProbeQuery{0.1f, 10, 0});
  auto want = index.Search(probes, queries);
  ASSERT_TRUE(want.ok()) << want.status();

  for (double fraction : {0.15, 0.35, 0.8}) {
    SearchHits first;
    for (bool skip : {true, false}) {
      GpuFlatIndex::SearchTuning tuning;
      tuning.l2_fraction = fraction;
      tuning.skip_unchanged_sort = skip;
      index.SetSearchTuning(tuning);
      const kernels::ScoreTilePlan plan = index.TilePlan(300, 10);
      EXPECT_LE(plan.live_bytes, plan.l2_cache_bytes * fraction);
      auto got = index.Search(probes, queries);
      ASSERT_TRUE(got.ok()) << got.status();
      if (skip) {
        first = *got;
        // Other tile widths may make cuBLAS pick another kernel, so the
        // last bits of a score may differ: equal up to near-tie swaps.
        ASSERT_EQ(got->size(), want->size());
        for (size_t p = 0; p < got->size(); ++p) {
          ASSERT_EQ((*got)[p].size(), (*want)[p].size()) << p;
          for (size_t i = 0; i < (*got)[p].size(); ++i) {
            EXPECT_NEAR((*got)[p][i].score, (*want)[p][i].score, 1e-5f);
          }
        }
      } else {
        // Same tiles, same GEMMs: the skip changes nothing at all.
        EXPECT_EQ(*got, first) << fraction;
      }
    }
  }
  GpuFlatIndex::SearchTuning gemm_only;
  gemm_only.select = false;
  index.SetSearchTuning(gemm_only);
  auto none = index.Search(probes, queries);
  ASSERT_TRUE(none.ok()) << none.status();
  for (const auto& h : *none) EXPECT_TRUE(h.empty());
  auto seconds = index.LastSearchGpuSeconds();
  ASSERT_TRUE(seconds.ok()) << seconds.status();
  EXPECT_GT(*seconds, 0.0);
}

TEST(GpuBackendWithoutDevice, EntryPointsFailCleanly) {
  // Runs everywhere: on a machine without a device the factory's entry
  // points must report that, not abort.
  if (candor::testing::HaveCudaDevice()) {
    EXPECT_GT(DeviceCount(), 0);
    EXPECT_FALSE(DeviceName().empty());
    return;
  }
  EXPECT_EQ(DeviceCount(), 0);
  EXPECT_EQ(DeviceName(), "");
  IndexConfig config;
  config.dimension = 512;
  EXPECT_EQ(CreateGpuFlatIndex(config).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace candor::index::gpu
