#include "server/index/bf16_flat_index.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "faiss/utils/distances.h"
#include "server/index/cpu_flat_index.h"

namespace candor::index {
namespace {

// Probes packed per pass over the gallery: as many as keep the packed
// block (2 bytes per dimension per probe) within about a core's L2 share,
// in whole pairs of 16-probe blocks.
int ProbeChunk(int padded_dim) {
  const int fit = (256 * 1024) / (2 * padded_dim);
  return std::clamp(fit & ~31, 32, 256);
}

// Gallery rows scored per tile: the tile's scores (rows x probes floats)
// stay within 128 KiB, in whole micro-tiles of the kernel.
int64_t TileRows(int padded_probes, Bf16Kernel kernel) {
  const int64_t block = Bf16KernelRowBlock(kernel);
  const int64_t fit = (128 * 1024) / (4 * int64_t{padded_probes});
  return std::max<int64_t>(block, fit / block * block);
}

// Probes rescored per GEMM.
constexpr int kRescoreGroup = 16;

// Below this many rows per thread a second thread costs more than it saves.
constexpr int64_t kMinRowsPerThread = 2048;

// Threads for a loop over `count` probes in chunks of 4: no more than
// there are chunks (a search of one probe starts no second thread, which
// on a busy machine could be waited for a whole time slice).
int ProbeThreads(int count, int threads) {
  return std::clamp((count + 3) / 4, 1, threads);
}

// The largest float <= x: cuts round toward admitting more rows.
float FloorToFloat(double x) {
  float f = static_cast<float>(x);
  if (static_cast<double>(f) > x) {
    f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  }
  return f;
}

struct Pending {
  float score;  // bf16 score
  int64_t row;
};

// One probe's rows still in the running, on one thread.
struct ProbeState {
  int k = 0;
  double floor_cut = 0;  // threshold - B
  double width = 0;      // 2B
  size_t cap = 0;        // prune when the buffer reaches this
  std::vector<Pending> rows;
};

// Drops the rows that k others beat for sure (see the header) and returns
// the cut for rows still to come.
double Prune(ProbeState* st) {
  double cut = st->floor_cut;
  if (st->k > 0 && st->rows.size() >= static_cast<size_t>(st->k)) {
    auto kth = st->rows.begin() + (st->k - 1);
    std::nth_element(
        st->rows.begin(), kth, st->rows.end(),
        [](const Pending& a, const Pending& b) { return a.score > b.score; });
    cut = std::max(cut, static_cast<double>(kth->score) - st->width);
    const float f = FloorToFloat(cut);
    st->rows.erase(
        std::remove_if(st->rows.begin(), st->rows.end(),
                       [f](const Pending& p) { return p.score < f; }),
        st->rows.end());
  }
  st->cap = std::max<size_t>(2 * st->rows.size(), 2 * size_t(st->k) + 64);
  return cut;
}

void Keep(ProbeState* st, float* cut, float score, int64_t row) {
  st->rows.push_back({score, row});
  if (st->rows.size() >= st->cap) *cut = FloorToFloat(Prune(st));
}

// Offers every score of a tile to its probe: rows [row0, row0 + rows).
void SelectTile(const float* scores, int64_t rows, int64_t row0, int count,
                int padded, ProbeState* states, float* cuts) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* s = scores + r * padded;
    for (int j = 0; j < count; ++j) {
      if (s[j] >= cuts[j]) Keep(&states[j], &cuts[j], s[j], row0 + r);
    }
  }
}

__attribute__((target("avx512f"))) void SelectTileAvx512(
    const float* scores, int64_t rows, int64_t row0, int count, int padded,
    ProbeState* states, float* cuts) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* s = scores + r * padded;
    for (int j0 = 0; j0 < padded; j0 += 16) {
      __mmask16 m = _mm512_cmp_ps_mask(_mm512_loadu_ps(s + j0),
                                       _mm512_loadu_ps(cuts + j0), _CMP_GE_OQ);
      while (m != 0) {
        const int j = j0 + __builtin_ctz(m);
        m &= m - 1;
        // Padding probes have an infinite cut and never match.
        if (s[j] >= cuts[j]) Keep(&states[j], &cuts[j], s[j], row0 + r);
      }
    }
  }
}

}  // namespace

double Bf16FlatIndex::RelativeErrorBound(int dimension) {
  const double ub = std::ldexp(1.0, -8);
  const double u = std::ldexp(1.0, -24);
  auto gamma = [](double m, double unit) { return m * unit / (1 - m * unit); };
  const double np = Bf16PaddedDim(dimension);
  return 2 * ub + ub * ub + gamma(np + 1, 2 * u) * (1 + ub) * (1 + ub) +
         gamma(dimension, u);
}

absl::StatusOr<std::unique_ptr<Bf16FlatIndex>> Bf16FlatIndex::Create(
    const Bf16FlatIndexOptions& options) {
  if (options.dimension <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "index dimension must be positive, got ", options.dimension));
  }
  if (!Bf16KernelSupported(options.kernel)) {
    return absl::FailedPreconditionError(
        absl::StrCat("bf16 kernel ", Bf16KernelName(options.kernel),
                     " is not supported by this CPU"));
  }
  return std::unique_ptr<Bf16FlatIndex>(new Bf16FlatIndex(options));
}

Bf16FlatIndex::Bf16FlatIndex(const Bf16FlatIndexOptions& options)
    : options_(options), padded_dim_(Bf16PaddedDim(options.dimension)) {}

const float* Bf16FlatIndex::Fp32Row(size_t row) const {
  if (options_.fp32_rows != nullptr) return options_.fp32_rows->Row(ids_[row]);
  return own_fp32_.data() + row * options_.dimension;
}

absl::Status Bf16FlatIndex::Add(absl::Span<const EntryId> ids,
                                absl::Span<const float> vectors) {
  const size_t d = options_.dimension;
  if (vectors.size() != ids.size() * d) {
    return absl::InvalidArgumentError(absl::StrCat("Add: ", vectors.size(),
                                                   " floats for ", ids.size(),
                                                   " ids of dimension ", d));
  }
  double max_norm = max_norm_;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (row_of_.contains(ids[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("Add: entry ", ids[i], " is already in the index"));
    }
    double sq = 0;
    for (size_t c = 0; c < d; ++c) {
      const double x = vectors[i * d + c];
      sq += x * x;
    }
    if (!std::isfinite(sq)) {
      return absl::InvalidArgumentError(
          absl::StrCat("Add: the vector of entry ", ids[i],
                       " has a value that is not finite"));
    }
    max_norm = std::max(max_norm, std::sqrt(sq));
  }
  max_norm_ = max_norm;
  const size_t first = ids_.size();
  rows_.resize((first + ids.size()) * padded_dim_, 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    uint16_t* out = rows_.data() + (first + i) * padded_dim_;
    for (size_t c = 0; c < d; ++c) out[c] = FloatToBf16(vectors[i * d + c]);
    row_of_[ids[i]] = first + i;
    ids_.push_back(ids[i]);
  }
  if (options_.fp32_rows == nullptr) {
    own_fp32_.insert(own_fp32_.end(), vectors.begin(), vectors.end());
  }
  return absl::OkStatus();
}

absl::Status Bf16FlatIndex::Remove(absl::Span<const EntryId> ids) {
  for (EntryId id : ids) {
    if (!row_of_.contains(id)) {
      return absl::InternalError(
          absl::StrCat("remove: entry ", id, " is not in the index"));
    }
  }
  const size_t d = options_.dimension;
  for (EntryId id : ids) {
    auto it = row_of_.find(id);
    const size_t row = it->second;
    row_of_.erase(it);
    const size_t last = ids_.size() - 1;
    if (row != last) {
      std::copy_n(rows_.data() + last * padded_dim_, padded_dim_,
                  rows_.data() + row * padded_dim_);
      if (options_.fp32_rows == nullptr) {
        std::copy_n(own_fp32_.data() + last * d, d, own_fp32_.data() + row * d);
      }
      ids_[row] = ids_[last];
      row_of_[ids_[row]] = row;
    }
    ids_.pop_back();
    rows_.resize(ids_.size() * padded_dim_);
    if (options_.fp32_rows == nullptr) own_fp32_.resize(ids_.size() * d);
  }
  return absl::OkStatus();
}

absl::StatusOr<SearchHits> Bf16FlatIndex::Search(
    absl::Span<const float> probes,
    absl::Span<const ProbeQuery> queries) const {
  const int d = options_.dimension;
  if (probes.size() != queries.size() * static_cast<size_t>(d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Search: ", probes.size(), " floats for ", queries.size(),
                     " probes of dimension ", d));
  }
  const int64_t n = size();
  const int nq = static_cast<int>(queries.size());
  SearchHits hits(nq);
  if (n == 0 || nq == 0) return hits;

  const double relative = RelativeErrorBound(d) * (1.0 + 1.0 / 16);
  const double absolute = 2.0 * padded_dim_ * std::ldexp(1.0, -126);
  // Per unit of ||p|| + G: the products of flushed denormal inputs.
  const double flushed =
      std::ldexp(1.0, -126) * std::sqrt(double(padded_dim_)) * (1 + 1.0 / 256);
  int threads = options_.threads > 0 ? options_.threads : omp_get_num_procs();
  threads = static_cast<int>(std::clamp<int64_t>(
      std::min<int64_t>(threads, n / kMinRowsPerThread), 1, threads));
  // Every CPU with either path has AVX-512F (Bf16KernelSupported).
  const bool avx512 = options_.kernel == Bf16Kernel::kAvx512Bf16 ||
                      options_.kernel == Bf16Kernel::kAmxBf16;
  const int chunk = ProbeChunk(padded_dim_);

  PackedProbes packed;
  for (int q0 = 0; q0 < nq; q0 += chunk) {
    const int count = std::min(chunk, nq - q0);
    PackProbes(options_.kernel, probes.data() + size_t(q0) * d, count, d,
               &packed);
    const int padded = packed.padded_count;
    // The initial state of each probe of the chunk.
    std::vector<ProbeState> initial(count);
    std::vector<float> initial_cuts(padded,
                                    std::numeric_limits<float>::infinity());
    for (int j = 0; j < count; ++j) {
      const float* p = probes.data() + size_t(q0 + j) * d;
      double sq = 0;
      for (int c = 0; c < d; ++c) sq += double(p[c]) * p[c];
      const double norm = std::sqrt(sq);
      const double bound =
          relative * norm * max_norm_ + absolute + flushed * (norm + max_norm_);
      const ProbeQuery& q = queries[q0 + j];
      ProbeState& st = initial[j];
      st.k = std::max(q.top_k, 0);
      st.floor_cut = double(q.threshold) - bound;
      st.width = 2 * bound;
      st.cap = 2 * size_t(st.k) + 64;
      if (st.k > 0) initial_cuts[j] = FloorToFloat(st.floor_cut);
    }
    std::vector<std::vector<ProbeState>> states(threads, initial);
    const int64_t tile = TileRows(padded, options_.kernel);
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num();
      const int64_t begin = n * t / threads, end = n * (t + 1) / threads;
      std::vector<float> scores(size_t(tile) * padded);
      std::vector<float> cuts = initial_cuts;
      ProbeState* mine = states[t].data();
      for (int64_t r0 = begin; r0 < end; r0 += tile) {
        const int64_t rows = std::min(tile, end - r0);
        ScoreBf16Rows(rows_.data() + r0 * padded_dim_, rows, packed,
                      scores.data());
        if (avx512) {
          SelectTileAvx512(scores.data(), rows, r0, count, padded, mine,
                           cuts.data());
        } else {
          SelectTile(scores.data(), rows, r0, count, padded, mine, cuts.data());
        }
      }
    }
    // Merge the threads' survivors and prune once more.
    std::vector<std::vector<int64_t>> survivors(count);
#pragma omp parallel for num_threads(ProbeThreads(count, threads)) \
    schedule(dynamic, 4)
    for (int j = 0; j < count; ++j) {
      ProbeState all = std::move(states[0][j]);
      for (int t = 1; t < threads; ++t) {
        auto& more = states[t][j].rows;
        all.rows.insert(all.rows.end(), more.begin(), more.end());
      }
      Prune(&all);
      for (const Pending& c : all.rows) survivors[j].push_back(c.row);
    }
    Rescore(probes.data() + size_t(q0) * d, queries.subspan(q0, count),
            survivors, threads, nq, &hits[q0]);
  }
  return hits;
}

void Bf16FlatIndex::Rescore(const float* probes,
                            absl::Span<const ProbeQuery> queries,
                            const std::vector<std::vector<int64_t>>& survivors,
                            int threads, int batch_probes,
                            std::vector<ScoredId>* hits) const {
  const int d = options_.dimension;
  const int count = static_cast<int>(queries.size());
  // Keeps F >= threshold, best first, ties by id, top_k.
  auto finish = [&](int j, std::vector<ScoredId>& out) {
    std::sort(out.begin(), out.end(), BetterCandidate);
    const size_t k = static_cast<size_t>(std::max(queries[j].top_k, 0));
    if (out.size() > k) out.resize(k);
  };
  // The fp32 flat index's own rule (kCpuFlatPairwiseBelowProbes): small
  // searches score pair by pair there, so they do here.
  if (!options_.fp32_scores || batch_probes < kCpuFlatPairwiseBelowProbes) {
#pragma omp parallel for num_threads(ProbeThreads(count, threads)) \
    schedule(dynamic, 4)
    for (int j = 0; j < count; ++j) {
      const float* p = probes + size_t(j) * d;
      for (int64_t row : survivors[j]) {
        const float score = faiss::fvec_inner_product(p, Fp32Row(row), d);
        if (score >= queries[j].threshold)
          hits[j].push_back({ids_[row], score});
      }
      finish(j, hits[j]);
    }
    return;
  }
  // A GEMM per group of probes over the union of the group's survivors,
  // the fp32 index's call shape (probes x rows), so each score is computed
  // as the fp32 index computes it. Groups, not the whole chunk: the union
  // of 256 probes' survivors against all 256 probes would cost a tenth of
  // the search.
  const int64_t small = options_.fp32_scores_small_madds;
  const bool fp32_call_small = int64_t{batch_probes} * size() * d <= small;
  for (int g0 = 0; g0 < count; g0 += kRescoreGroup) {
    const int m = std::min(kRescoreGroup, count - g0);
    absl::flat_hash_map<int64_t, int> column;
    std::vector<int64_t> rows;
    for (int j = g0; j < g0 + m; ++j) {
      for (int64_t row : survivors[j]) {
        if (column.try_emplace(row, static_cast<int>(rows.size())).second) {
          rows.push_back(row);
        }
      }
    }
    if (rows.empty()) continue;
    int nu = static_cast<int>(rows.size());
    if (small > 0 && !fp32_call_small && int64_t{m} * nu * d <= small) {
      nu = static_cast<int>(small / (int64_t{m} * d) + 1);
    }
    std::vector<float> gathered(size_t(nu) * d, 0.0f);
    for (size_t i = 0; i < rows.size(); ++i) {
      std::copy_n(Fp32Row(rows[i]), d, gathered.data() + i * d);
    }
    std::vector<float> scores(size_t(m) * nu);
    options_.fp32_scores(m, nu, d, probes + size_t(g0) * d, gathered.data(),
                         scores.data());
    for (int j = g0; j < g0 + m; ++j) {
      for (int64_t row : survivors[j]) {
        const float score = scores[size_t(j - g0) * nu + column.at(row)];
        if (score >= queries[j].threshold) {
          hits[j].push_back({ids_[row], score});
        }
      }
      finish(j, hits[j]);
    }
  }
}

MemoryBytes Bf16FlatIndex::memory() const {
  MemoryBytes bytes;
  bytes.host_bytes =
      rows_.capacity() * sizeof(uint16_t) + ids_.capacity() * sizeof(EntryId) +
      row_of_.bucket_count() * (sizeof(std::pair<EntryId, size_t>) + 1) +
      own_fp32_.capacity() * sizeof(float);
  return bytes;
}

}  // namespace candor::index
