// The bf16 flat index answers exactly as the fp32 flat index does: the same
// candidates, order and (fp32) scores, on every kernel this CPU runs, for
// scores packed within 1e-4 of the threshold and of each other at the
// top-k boundary, on shapes that are multiples of no tile or block. And
// the error bound it relies on holds for the kernels' raw scores.
#include "server/index/bf16_flat_index.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_format.h"
#include "faiss/utils/distances.h"
#include "gtest/gtest.h"
#include "server/index/cpu_blas.h"
#include "server/index/index_factory.h"
#include "tests/index/brute_force.h"

namespace candor::index {
namespace {

using ::candor::testing::BruteForceSearch;
using ::candor::testing::RandomUnitRows;

std::vector<Bf16Kernel> SupportedKernels() {
  std::vector<Bf16Kernel> out;
  for (Bf16Kernel k : {Bf16Kernel::kScalar, Bf16Kernel::kAvx2,
                       Bf16Kernel::kAvx512Bf16, Bf16Kernel::kAmxBf16}) {
    if (Bf16KernelSupported(k)) out.push_back(k);
  }
  return out;
}

Fp32ScoreFn ServingGemm() {
  return
      [](int m, int n, int k, const float* probes, const float* rows,
         float* c) { ServingBlas().Scores(m, n, k, probes, k, rows, k, c, n); };
}

struct Case {
  std::vector<float> gallery;
  std::vector<EntryId> ids;
  std::vector<float> probes;
  std::vector<ProbeQuery> queries;
};

// Unit rows g = a p + sqrt(1 - a^2) q with q a unit direction orthogonal to
// p, so p.g = a: the scores are chosen. `scores` gives the a of each row.
std::vector<float> RowsWithScores(const std::vector<double>& p,
                                  const std::vector<double>& scores,
                                  std::mt19937& rng) {
  const int dim = static_cast<int>(p.size());
  std::normal_distribution<double> normal;
  std::vector<float> out;
  for (double a : scores) {
    std::vector<double> q(dim);
    double dot = 0, norm = 0;
    for (auto& x : q) x = normal(rng);
    for (int c = 0; c < dim; ++c) dot += q[c] * p[c];
    for (int c = 0; c < dim; ++c) q[c] -= dot * p[c];
    for (double x : q) norm += x * x;
    norm = std::sqrt(norm);
    const double b = std::sqrt(std::max(0.0, 1 - a * a));
    for (int c = 0; c < dim; ++c) {
      const double v = dim == 1 ? (a >= 0 ? 1.0 : -1.0)
                                : a * p[c] + (norm > 0 ? b * q[c] / norm : 0);
      out.push_back(static_cast<float>(v));
    }
  }
  return out;
}

// `rows` entries whose scores against the first probe crowd around
// `center` (distinct values 2e-6 apart, all within 1e-4 of it; some rows
// exact duplicates), shuffled, with ids not in row order; probes: that
// probe, then random ones. Queries: threshold at `center`, and top_k
// cutting through the crowd.
Case CrowdedCase(int rows, int dim, int random_probes, uint32_t seed) {
  std::mt19937 rng(seed);
  Case c;
  std::vector<float> p0 = RandomUnitRows(1, dim, rng);
  std::vector<double> p(p0.begin(), p0.end());
  const double center = dim == 1 ? 1.0 : 0.62;
  std::vector<double> scores;
  for (int i = 0; i < rows; ++i) {
    if (dim == 1) {
      scores.push_back(i % 2 ? 1.0 : -1.0);
    } else if (i % 5 == 4) {
      scores.push_back(scores.back());  // a duplicate score (tie by id)
    } else {
      scores.push_back(center + 2e-6 * ((i * 37) % 100 - 50));
    }
  }
  c.gallery = RowsWithScores(p, scores, rng);
  // Exact duplicate rows: equal fp32 scores, order by id.
  for (int i = 3; i + 1 < rows; i += 11) {
    std::copy_n(c.gallery.begin() + size_t(i) * dim, dim,
                c.gallery.begin() + size_t(i + 1) * dim);
  }
  c.ids.resize(rows);
  std::iota(c.ids.begin(), c.ids.end(), EntryId{1000});
  std::shuffle(c.ids.begin(), c.ids.end(), rng);
  c.probes = p0;
  std::vector<float> more = RandomUnitRows(random_probes, dim, rng);
  c.probes.insert(c.probes.end(), more.begin(), more.end());
  const int crowd_k = std::max(1, rows / 2);
  c.queries.push_back({static_cast<float>(center), rows + 5, 0});
  for (int j = 0; j < random_probes; ++j) {
    const int k = 1 + (j * 7) % std::max(1, rows);
    c.queries.push_back({j % 3 == 0 ? -1.0f : 0.05f, k, 0});
  }
  // The same crowded probe again with a top_k boundary inside the crowd,
  // and with threshold just above and below the centre.
  for (const ProbeQuery& q :
       {ProbeQuery{-1.0f, crowd_k, 0},
        ProbeQuery{static_cast<float>(center + 3e-5), crowd_k, 0},
        ProbeQuery{static_cast<float>(center - 7e-5), crowd_k + 3, 0}}) {
    c.probes.insert(c.probes.end(), p0.begin(), p0.end());
    c.queries.push_back(q);
  }
  return c;
}

std::string Describe(const std::vector<ScoredId>& hits) {
  std::string out;
  for (const ScoredId& h : hits) {
    out += std::to_string(h.id) + ":" + absl::StrFormat("%.9g", h.score) + " ";
  }
  return out;
}

void ExpectSameAsFp32(const Case& c, int dim, Bf16Kernel kernel,
                      bool own_copy) {
  SCOPED_TRACE(::testing::Message()
               << "dim " << dim << " rows " << c.ids.size() << " kernel "
               << Bf16KernelName(kernel) << (own_copy ? " own copy" : ""));
  IndexConfig fp32_config;
  fp32_config.dimension = dim;
  auto fp32 = CreateIndex(fp32_config, Backend::kCpu);
  ASSERT_TRUE(fp32.ok()) << fp32.status();
  ASSERT_TRUE((*fp32)->Add(c.ids, c.gallery).ok());

  // Each id's row in the case (a lookup, not a scan: the checks below ask
  // for thousands of rows per probe).
  std::unordered_map<EntryId, size_t> row_of;
  for (size_t r = 0; r < c.ids.size(); ++r) row_of[c.ids[r]] = r;
  // The fp32 rows the index rescores from: the gallery's copy, by id.
  struct Rows : Fp32RowSource {
    const Case* c;
    const std::unordered_map<EntryId, size_t>* row_of;
    int dim;
    const float* Row(EntryId id) const override {
      return c->gallery.data() + row_of->at(id) * dim;
    }
  } source;
  source.c = &c;
  source.row_of = &row_of;
  source.dim = dim;
  Bf16FlatIndexOptions options;
  options.dimension = dim;
  options.kernel = kernel;
  options.fp32_scores = ServingGemm();
  options.fp32_scores_small_madds = 1000000;
  if (!own_copy) options.fp32_rows = &source;
  auto bf16 = Bf16FlatIndex::Create(options);
  ASSERT_TRUE(bf16.ok()) << bf16.status();
  ASSERT_TRUE((*bf16)->Add(c.ids, c.gallery).ok());

  auto want = (*fp32)->Search(c.probes, c.queries);
  auto got = (*bf16)->Search(c.probes, c.queries);
  ASSERT_TRUE(want.ok()) << want.status();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), c.queries.size());
  for (size_t j = 0; j < c.queries.size(); ++j) {
    SCOPED_TRACE(::testing::Message() << "probe " << j);
    EXPECT_EQ((*got)[j], (*want)[j]) << "bf16: " << Describe((*got)[j])
                                     << "\nfp32: " << Describe((*want)[j]);
    // The float64 oracle agrees up to fp32 rounding (kNoise): the order
    // never inverts a real gap, nothing that beats the last hit (or, when
    // fewer than top_k, the threshold) by more is missing. An fp32 dot
    // product of dim terms errs by up to about dim x 2^-24 (gamma_n),
    // summed by a GEMM or pair by pair (searches of few probes).
    const double kNoise = std::max(1e-6, dim * std::ldexp(1.0, -24));
    const float* probe = c.probes.data() + j * dim;
    auto truth = [&](EntryId id) {
      const size_t r = row_of.at(id);
      double dot = 0;
      for (int k = 0; k < dim; ++k) {
        dot += double{c.gallery[r * dim + k]} * double{probe[k]};
      }
      return dot;
    };
    const auto& hits = (*got)[j];
    // Each hit's float64 score once: the order check reads it twice.
    std::vector<double> hit_truth;
    std::unordered_set<EntryId> hit_ids;
    for (const ScoredId& h : hits) {
      hit_truth.push_back(truth(h.id));
      hit_ids.insert(h.id);
    }
    for (size_t i = 0; i < hits.size(); ++i) {
      EXPECT_GE(hit_truth[i], c.queries[j].threshold - kNoise);
      if (i > 0) {
        EXPECT_GE(hit_truth[i - 1], hit_truth[i] - kNoise);
      }
    }
    const bool full = hits.size() == size_t(c.queries[j].top_k);
    const double bar =
        full ? hit_truth.back() : double{c.queries[j].threshold};
    const auto oracle =
        BruteForceSearch(c.gallery, c.ids, dim, probe, c.queries[j]);
    for (const ScoredId& o : oracle) {
      if (truth(o.id) <= bar + kNoise) continue;
      EXPECT_TRUE(hit_ids.count(o.id)) << "missing " << o.id;
    }
  }
}

TEST(Bf16FlatIndexTest, SameAnswerAsFp32OnCrowdedScores) {
  for (int dim : {1, 3, 129, 4096}) {
    for (int rows : {1, 7, 513}) {
      const Case c = CrowdedCase(rows, dim, /*random_probes=*/5,
                                 static_cast<uint32_t>(dim * 1000 + rows));
      // The crowded probe and two others alone: fewer than kBf16FewProbes,
      // the small-batch layout.
      Case few = c;
      few.probes.resize(size_t(3) * dim);
      few.queries.resize(3);
      for (Bf16Kernel kernel : SupportedKernels()) {
        ExpectSameAsFp32(c, dim, kernel, /*own_copy=*/false);
        ExpectSameAsFp32(few, dim, kernel, /*own_copy=*/false);
      }
      ExpectSameAsFp32(c, dim, BestBf16Kernel(), /*own_copy=*/true);
    }
  }
}

// Enough rows for several threads and tiles, enough probes for several
// probe chunks (32 at dimension 4096): the threads' survivors merge.
TEST(Bf16FlatIndexTest, SameAnswerAcrossThreadsTilesAndChunks) {
  const Case a = CrowdedCase(9001, 129, /*random_probes=*/300, 7);
  ExpectSameAsFp32(a, 129, BestBf16Kernel(), false);
  const Case b = CrowdedCase(4500, 4096, /*random_probes=*/70, 8);
  ExpectSameAsFp32(b, 4096, BestBf16Kernel(), false);
}

// Small batches rescore few rows: the rescoring GEMM must still take the
// kernel the fp32 index's GEMM over the whole gallery takes, or the last
// bits of the scores differ.
TEST(Bf16FlatIndexTest, SmallBatchesGiveTheFp32ScoresToTheLastBit) {
  const int n = 20000, d = 512;
  const std::vector<float> gallery = RandomUnitRows(n, d, 1u);
  std::vector<EntryId> ids(n);
  std::iota(ids.begin(), ids.end(), EntryId{1});
  IndexConfig config;
  config.dimension = d;
  auto fp32 = CreateIndex(config, Backend::kCpu);
  config.precision = Precision::kBf16;
  auto bf16 = CreateIndex(config, Backend::kCpu);
  ASSERT_TRUE(fp32.ok() && bf16.ok());
  ASSERT_TRUE((*fp32)->Add(ids, gallery).ok());
  ASSERT_TRUE((*bf16)->Add(ids, gallery).ok());
  const std::vector<float> probes = RandomUnitRows(3, d, 2u);
  for (int m = 1; m <= 3; ++m) {
    std::vector<ProbeQuery> queries(m, ProbeQuery{-1.0f, 5, 0});
    absl::Span<const float> span(probes.data(), size_t(m) * d);
    auto want = (*fp32)->Search(span, queries);
    auto got = (*bf16)->Search(span, queries);
    ASSERT_TRUE(want.ok() && got.ok());
    for (int j = 0; j < m; ++j) {
      EXPECT_EQ((*got)[j], (*want)[j]) << "batch " << m << " probe " << j
                                       << "\nbf16: " << Describe((*got)[j])
                                       << "\nfp32: " << Describe((*want)[j]);
    }
  }
}

// Remove swaps the last row into the hole; answers track the live set.
TEST(Bf16FlatIndexTest, RemoveKeepsTheAnswerExact) {
  Case c = CrowdedCase(513, 129, 4, 11);
  IndexConfig config;
  config.dimension = 129;
  config.precision = Precision::kBf16;
  auto bf16 = CreateIndex(config, Backend::kCpu);
  ASSERT_TRUE(bf16.ok()) << bf16.status();
  EXPECT_EQ((*bf16)->backend(), "cpu-bf16");
  ASSERT_TRUE((*bf16)->Add(c.ids, c.gallery).ok());
  std::vector<EntryId> gone(c.ids.begin() + 100, c.ids.begin() + 300);
  ASSERT_TRUE((*bf16)->Remove(gone).ok());
  EXPECT_EQ((*bf16)->size(), 513 - 200);
  // A second Remove of the same ids changes nothing and says so.
  EXPECT_FALSE((*bf16)->Remove({gone[0]}).ok());
  EXPECT_EQ((*bf16)->size(), 513 - 200);

  Case live = c;
  live.ids.clear();
  live.gallery.clear();
  for (size_t r = 0; r < c.ids.size(); ++r) {
    if (std::find(gone.begin(), gone.end(), c.ids[r]) != gone.end()) continue;
    live.ids.push_back(c.ids[r]);
    live.gallery.insert(live.gallery.end(), c.gallery.begin() + r * 129,
                        c.gallery.begin() + (r + 1) * 129);
  }
  IndexConfig fp32_config;
  fp32_config.dimension = 129;
  auto fp32 = CreateIndex(fp32_config, Backend::kCpu);
  ASSERT_TRUE((*fp32)->Add(live.ids, live.gallery).ok());
  auto want = (*fp32)->Search(c.probes, c.queries);
  auto got = (*bf16)->Search(c.probes, c.queries);
  ASSERT_TRUE(want.ok() && got.ok());
  EXPECT_EQ(*got, *want);
}

// Without a GEMM the scores are faiss::fvec_inner_product's, exactly.
TEST(Bf16FlatIndexTest, PairwiseRescoringGivesItsOwnScoresExactly) {
  const int dim = 129;
  const Case c = CrowdedCase(513, dim, 6, 5);
  Bf16FlatIndexOptions options;
  options.dimension = dim;
  auto bf16 = Bf16FlatIndex::Create(options);
  ASSERT_TRUE(bf16.ok());
  ASSERT_TRUE((*bf16)->Add(c.ids, c.gallery).ok());
  auto got = (*bf16)->Search(c.probes, c.queries);
  ASSERT_TRUE(got.ok());
  for (size_t j = 0; j < c.queries.size(); ++j) {
    std::vector<ScoredId> want;
    for (size_t r = 0; r < c.ids.size(); ++r) {
      const float s = faiss::fvec_inner_product(
          c.probes.data() + j * dim, c.gallery.data() + r * dim, dim);
      if (s >= c.queries[j].threshold) want.push_back({c.ids[r], s});
    }
    std::sort(want.begin(), want.end(), BetterCandidate);
    if (want.size() > size_t(c.queries[j].top_k)) {
      want.resize(c.queries[j].top_k);
    }
    EXPECT_EQ((*got)[j], want) << "probe " << j;
  }
}

// The raw bf16 scores of every kernel stay within the bound, on random
// rows and on rows built to make the rounding errors add up: every
// component the same value, rounded the same way in probe and row.
TEST(Bf16FlatIndexTest, RawScoresStayWithinTheBound) {
  for (int dim : {3, 129, 512, 4096}) {
    std::vector<std::vector<float>> rows_sets;
    rows_sets.push_back(RandomUnitRows(40, dim, static_cast<uint32_t>(dim)));
    std::vector<float> same;
    for (int r = 0; r < 20; ++r) {
      // 1/sqrt(dim) nudged so bf16 rounding is near its worst (just under
      // half an ulp), the same sign for every component: errors add.
      const float base = static_cast<float>(1.0 / std::sqrt(double(dim)));
      uint32_t bits;
      std::memcpy(&bits, &base, 4);
      bits = (bits & ~0xffffu) | (0x7fffu - 64u * r);
      float v;
      std::memcpy(&v, &bits, 4);
      same.insert(same.end(), dim, v);
    }
    rows_sets.push_back(same);
    const double bound = Bf16FlatIndex::RelativeErrorBound(dim);
    for (const auto& rows : rows_sets) {
      const int n = static_cast<int>(rows.size() / dim);
      const int dp = Bf16PaddedDim(dim);
      std::vector<uint16_t> packed(size_t(n) * dp, 0);
      for (int r = 0; r < n; ++r) {
        for (int c = 0; c < dim; ++c) {
          packed[size_t(r) * dp + c] = FloatToBf16(rows[size_t(r) * dim + c]);
        }
      }
      for (Bf16Kernel kernel : SupportedKernels()) {
        PackedProbes probes;
        PackProbes(kernel, rows.data(), n, dim, &probes);
        std::vector<float> scores(size_t(n) * probes.padded_count);
        ScoreBf16Rows(packed.data(), n, probes, scores.data());
        double worst = 0;
        for (int r = 0; r < n; ++r) {
          for (int j = 0; j < n; ++j) {
            double exact = 0, np = 0, ng = 0;
            for (int c = 0; c < dim; ++c) {
              const double pv = rows[size_t(j) * dim + c];
              const double gv = rows[size_t(r) * dim + c];
              exact += pv * gv;
              np += pv * pv;
              ng += gv * gv;
            }
            const double err =
                std::abs(scores[size_t(r) * probes.padded_count + j] - exact) /
                std::sqrt(np * ng);
            worst = std::max(worst, err);
          }
        }
        EXPECT_LE(worst, bound)
            << "dim " << dim << " kernel " << Bf16KernelName(kernel);
        // The bound is not vacuous: the built rows come within a factor 4.
        if (&rows == &rows_sets.back() && Bf16KernelRoundsProbes(kernel)) {
          EXPECT_GE(worst, bound / 4) << "dim " << dim;
        }
      }
    }
  }
}

TEST(Bf16FlatIndexTest, RefusesWhatItCannotServe) {
  IndexConfig config;
  config.dimension = 8;
  config.precision = Precision::kBf16;
  config.type = IndexType::kIvfFlat;
  EXPECT_EQ(CreateIndex(config, Backend::kCpu).status().code(),
            absl::StatusCode::kInvalidArgument);
  Bf16FlatIndexOptions options;
  options.dimension = 0;
  EXPECT_EQ(Bf16FlatIndex::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.dimension = 4;
  auto index = Bf16FlatIndex::Create(options);
  ASSERT_TRUE(index.ok());
  const std::vector<EntryId> ids = {1};
  EXPECT_EQ((*index)->Add(ids, std::vector<float>(3)).code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<float> nan(4, std::nanf(""));
  EXPECT_EQ((*index)->Add(ids, nan).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*index)->size(), 0);
  EXPECT_EQ(ParsePrecision("fp16").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParsePrecision("bf16"), Precision::kBf16);
}

// Half the vector bytes of the fp32 flat index.
TEST(Bf16FlatIndexTest, HoldsHalfTheVectorBytes) {
  const int dim = 512, rows = 2000;
  const std::vector<float> gallery = RandomUnitRows(rows, dim, 3u);
  std::vector<EntryId> ids(rows);
  std::iota(ids.begin(), ids.end(), EntryId{1});
  struct NoRows : Fp32RowSource {
    const float* Row(EntryId) const override { return nullptr; }
  } source;
  Bf16FlatIndexOptions options;
  options.dimension = dim;
  options.fp32_rows = &source;
  auto bf16 = Bf16FlatIndex::Create(options);
  ASSERT_TRUE((*bf16)->Add(ids, gallery).ok());
  const double per_entry = double((*bf16)->memory().host_bytes) / rows;
  EXPECT_GE(per_entry, 2.0 * dim);
  EXPECT_LE(per_entry, 2.0 * dim * 1.3);
}

}  // namespace
}  // namespace candor::index
