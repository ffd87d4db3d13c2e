// The search's cost does not depend on how many entries tie at the top_k
// boundary: 20,000 identical entries cost each probe one batched k-NN pass
// and one range pass (at most two), counted through a wrapper that sees
// every pass, and the answers keep the contract (hits >= threshold, best
// first, ties by ascending entry id, at most top_k).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "faiss/IndexFlat.h"
#include "faiss/IndexIDMap.h"
#include "gtest/gtest.h"
#include "server/index/faiss_flat_index.h"
#include "server/index/faiss_ivf_index.h"
#include "server/index/faiss_search.h"

namespace candor::index {
namespace {

// Forwards every search to `inner`, counting the passes.
class CountingIndex final : public faiss::Index {
 public:
  explicit CountingIndex(const faiss::Index* inner)
      : faiss::Index(inner->d, inner->metric_type), inner_(inner) {
    ntotal = inner->ntotal;
    is_trained = true;
  }
  void add(idx_t, const float*) override { FAISS_THROW_MSG("read-only"); }
  void reset() override { FAISS_THROW_MSG("read-only"); }
  void search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
              const faiss::SearchParameters* params) const override {
    ++knn_passes;
    knn_rows += n;
    inner_->search(n, x, k, distances, labels, params);
  }
  void range_search(idx_t n, const float* x, float radius,
                    faiss::RangeSearchResult* result,
                    const faiss::SearchParameters* params) const override {
    ++range_passes;
    range_rows += n;
    inner_->range_search(n, x, radius, result, params);
  }

  mutable std::atomic<int64_t> knn_passes{0}, knn_rows{0};
  mutable std::atomic<int64_t> range_passes{0}, range_rows{0};

 private:
  const faiss::Index* inner_;
};

constexpr int kDim = 16;
constexpr int kTied = 20000;
constexpr int kAbove = 50;

// Vectors whose inner products are exact in float whatever the summation
// order (BLAS or not): X = (1/2, 1/2, 1/2, 1/2, 0, ...), E = (1, 0, ...).
// X.X = E.E = 1 and X.E = 1/2.
std::vector<float> RowX() {
  std::vector<float> v(kDim, 0.0f);
  std::fill_n(v.begin(), 4, 0.5f);
  return v;
}
std::vector<float> RowE() {
  std::vector<float> v(kDim, 0.0f);
  v[0] = 1.0f;
  return v;
}

struct TieGallery {
  std::vector<EntryId> x_ids;  // kTied entries equal to X, ascending
  std::vector<EntryId> e_ids;  // kAbove entries equal to E, ascending
  std::vector<EntryId> ids;    // as added (shuffled)
  std::vector<float> rows;
};

// X and E entries under sparse ids, added in shuffled order so that no
// pass returns ties in id order by accident.
TieGallery MakeTieGallery() {
  TieGallery g;
  std::mt19937_64 rng(42);
  for (int i = 0; i < kTied + kAbove; ++i) {
    g.ids.push_back(100 + 3 * static_cast<EntryId>(i));
  }
  std::shuffle(g.ids.begin(), g.ids.end(), rng);
  // The first kAbove ids of the shuffled order are E entries.
  const std::vector<float> x = RowX(), e = RowE();
  for (size_t i = 0; i < g.ids.size(); ++i) {
    const bool row_e = i < kAbove;
    (row_e ? g.e_ids : g.x_ids).push_back(g.ids[i]);
    g.rows.insert(g.rows.end(), row_e ? e.begin() : x.begin(),
                  row_e ? e.end() : x.end());
  }
  std::sort(g.x_ids.begin(), g.x_ids.end());
  std::sort(g.e_ids.begin(), g.e_ids.end());
  return g;
}

// The contract's answer: E entries (score to probe `probe_e`: 1, else 1/2)
// and X entries (1/2, else 1), best first, ties by id, >= threshold, top_k.
std::vector<ScoredId> Expected(const TieGallery& g, bool probe_e,
                               const ProbeQuery& q) {
  std::vector<ScoredId> want;
  for (EntryId id : g.x_ids) want.push_back({id, probe_e ? 0.5f : 1.0f});
  for (EntryId id : g.e_ids) want.push_back({id, probe_e ? 1.0f : 0.5f});
  want.erase(std::remove_if(
                 want.begin(), want.end(),
                 [&](const ScoredId& h) { return !(h.score >= q.threshold); }),
             want.end());
  std::sort(want.begin(), want.end(), BetterCandidate);
  if (static_cast<int>(want.size()) > q.top_k) want.resize(q.top_k);
  return want;
}

void ExpectHits(const std::vector<ScoredId>& got,
                const std::vector<ScoredId>& want, int probe) {
  ASSERT_EQ(got.size(), want.size()) << "probe " << probe;
  for (size_t j = 0; j < got.size(); ++j) {
    ASSERT_EQ(got[j].id, want[j].id) << "probe " << probe << " rank " << j;
    ASSERT_EQ(got[j].score, want[j].score)
        << "probe " << probe << " rank " << j;
  }
}

TEST(TieBound, TwentyThousandTiesCostAtMostTwoPassesPerProbe) {
  const TieGallery g = MakeTieGallery();
  faiss::IndexFlatIP flat(kDim);
  faiss::IndexIDMap id_map(&flat);
  std::vector<faiss::Index::idx_t> labels(g.ids.begin(), g.ids.end());
  id_map.add_with_ids(static_cast<faiss::Index::idx_t>(labels.size()),
                      g.rows.data(), labels.data());
  CountingIndex counting(&id_map);

  // 256 probes: X (20,000 entries tie at 1) and E (50 entries at 1 above
  // 20,000 tied at 1/2), at several top_k and thresholds.
  const std::vector<int> top_ks = {1, 7, 50, 51, 100, 1000};
  const std::vector<float> thresholds = {-1.0f, 0.5f, 0.75f};
  constexpr int kProbes = 256;
  std::vector<float> probes;
  std::vector<ProbeQuery> queries;
  std::vector<bool> is_e;
  for (int i = 0; i < kProbes; ++i) {
    const bool e = i % 2 == 1;
    const std::vector<float> row = e ? RowE() : RowX();
    probes.insert(probes.end(), row.begin(), row.end());
    queries.push_back(ProbeQuery{thresholds[(i / 2) % thresholds.size()],
                                 top_ks[(i / 6) % top_ks.size()], 0});
    is_e.push_back(e);
  }
  auto hits = SearchFaissIndex(counting, probes, queries, nullptr);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_EQ(hits->size(), static_cast<size_t>(kProbes));
  for (int i = 0; i < kProbes; ++i) {
    ExpectHits((*hits)[i], Expected(g, is_e[i], queries[i]), i);
  }
  // One k-NN pass over the whole batch; no probe searched again with a
  // deeper k; at most two single-probe range passes per probe.
  EXPECT_EQ(counting.knn_passes.load(), 1);
  EXPECT_EQ(counting.knn_rows.load(), kProbes);
  EXPECT_LE(counting.range_passes.load(), 2 * kProbes);
  EXPECT_EQ(counting.range_rows.load(), counting.range_passes.load());
  // And a tie pass only where a tie straddles the boundary: never for an E
  // probe whose top_k <= 50 or whose threshold leaves out the X entries.
  int straddling = 0;
  for (int i = 0; i < kProbes; ++i) {
    const ProbeQuery& q = queries[i];
    const bool x_counted = !is_e[i] || q.threshold <= 0.5f;
    if (x_counted && (!is_e[i] || q.top_k > kAbove)) ++straddling;
  }
  EXPECT_GE(counting.range_passes.load(), straddling);
  EXPECT_LE(counting.range_passes.load(), 2 * straddling);
}

TEST(TieBound, OneProbeWithTiesCostsOneKnnPassAndOneRangePass) {
  const TieGallery g = MakeTieGallery();
  faiss::IndexFlatIP flat(kDim);
  faiss::IndexIDMap id_map(&flat);
  std::vector<faiss::Index::idx_t> labels(g.ids.begin(), g.ids.end());
  id_map.add_with_ids(static_cast<faiss::Index::idx_t>(labels.size()),
                      g.rows.data(), labels.data());
  CountingIndex counting(&id_map);
  const std::vector<float> probe = RowX();
  const ProbeQuery q{-1.0f, 10, 0};
  auto hits = SearchFaissIndex(counting, probe, {&q, 1}, nullptr);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ExpectHits((*hits)[0], Expected(g, false, q), 0);
  EXPECT_EQ(counting.knn_passes.load(), 1);
  EXPECT_EQ(counting.range_passes.load(), 1);
}

TEST(TieBound, FlatIndexAnswersTiesByAscendingId) {
  // The same gallery through the public index: same answers.
  const TieGallery g = MakeTieGallery();
  auto index = FaissFlatIndex::Create(kDim);
  ASSERT_TRUE(index.ok());
  ASSERT_TRUE((*index)->Add(g.ids, g.rows).ok());
  std::vector<float> probes = RowX();
  const std::vector<float> e = RowE();
  probes.insert(probes.end(), e.begin(), e.end());
  const std::vector<ProbeQuery> queries = {{0.5f, 1000, 0}, {-1.0f, 60, 0}};
  auto hits = (*index)->Search(probes, queries);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ExpectHits((*hits)[0], Expected(g, false, queries[0]), 0);
  ExpectHits((*hits)[1], Expected(g, true, queries[1]), 1);
}

TEST(TieBound, IvfIndexSettlesTiesWithItsOwnListsVisited) {
  // A trained IVF index: the tie pass visits the lists the probe's nprobe
  // names (here all four, so the answer is exact).
  const TieGallery g = MakeTieGallery();
  IndexConfig config;
  config.dimension = kDim;
  config.type = IndexType::kIvfFlat;
  config.nlist = 4;
  config.default_nprobe = 4;
  auto index = FaissIvfIndex::Create(config);
  ASSERT_TRUE(index.ok()) << index.status();
  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> training(400 * kDim);
  for (float& v : training) v = normal(rng);
  for (int r = 0; r < 400; ++r) {
    float norm = 0;
    for (int c = 0; c < kDim; ++c)
      norm += training[r * kDim + c] * training[r * kDim + c];
    for (int c = 0; c < kDim; ++c) training[r * kDim + c] /= std::sqrt(norm);
  }
  ASSERT_TRUE((*index)->Train(training, 4).ok());
  ASSERT_TRUE((*index)->trained());
  ASSERT_TRUE((*index)->Add(g.ids, g.rows).ok());
  std::vector<float> probes = RowX();
  const std::vector<float> e = RowE();
  probes.insert(probes.end(), e.begin(), e.end());
  const std::vector<ProbeQuery> queries = {{-1.0f, 25, 4}, {0.25f, 80, 4}};
  auto hits = (*index)->Search(probes, queries);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ExpectHits((*hits)[0], Expected(g, false, queries[0]), 0);
  ExpectHits((*hits)[1], Expected(g, true, queries[1]), 1);
}

}  // namespace
}  // namespace candor::index
