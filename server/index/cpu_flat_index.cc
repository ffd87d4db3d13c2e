#include "server/index/cpu_flat_index.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "faiss/utils/distances.h"

namespace candor::index {
namespace {

// Scores per tile (1 MiB): each worker's tile stays in its core's L2
// cache between the GEMM that writes it and the scan that reads it.
constexpr int64_t kTileFloats = int64_t{1} << 18;
constexpr int kMinTileRows = 256;
constexpr int kMaxTileRows = 16384;
// Searches below this many flops run on the calling thread alone.
constexpr int64_t kParallelFlops = int64_t{1} << 24;

std::atomic<int> g_threads{0};  // 0: every core
// Probes per GEMM: bounds the score tile for very large batches.
constexpr int64_t kMaxProbesPerPass = 4096;

// One probe's running answer: a heap of at most top_k hits whose front is
// the worst, and the bar a score must reach to be offered at all.
class Selection {
 public:
  explicit Selection(const ProbeQuery& query, int64_t entries)
      : threshold_(query.threshold),
        top_k_(std::max(query.top_k, 0)),
        bar_(query.threshold) {
    heap_.reserve(static_cast<size_t>(std::min<int64_t>(top_k_, entries)));
  }

  float bar() const { return bar_; }
  bool closed() const { return top_k_ == 0; }

  // Offers a score >= bar(). Equal to the worst kept and a smaller id:
  // it still enters (ties by ascending id).
  void Offer(EntryId id, float score) {
    const ScoredId hit{id, score};
    if (static_cast<int>(heap_.size()) < top_k_) {
      heap_.push_back(hit);
      std::push_heap(heap_.begin(), heap_.end(), BetterCandidate);
      if (static_cast<int>(heap_.size()) == top_k_) RaiseBar();
      return;
    }
    if (!BetterCandidate(hit, heap_.front())) return;
    std::pop_heap(heap_.begin(), heap_.end(), BetterCandidate);
    heap_.back() = hit;
    std::push_heap(heap_.begin(), heap_.end(), BetterCandidate);
    RaiseBar();
  }

  std::vector<ScoredId> Finish() && {
    std::sort_heap(heap_.begin(), heap_.end(), BetterCandidate);
    return std::move(heap_);
  }

 private:
  void RaiseBar() { bar_ = std::max(threshold_, heap_.front().score); }

  const float threshold_;
  const int top_k_;
  float bar_;
  std::vector<ScoredId> heap_;
};

// Offers every score of one probe's tile row that reaches its bar.
void ScanScalar(const float* scores, int64_t count, const EntryId* ids,
                Selection* selection) {
  for (int64_t j = 0; j < count; ++j) {
    if (scores[j] >= selection->bar()) selection->Offer(ids[j], scores[j]);
  }
}

// The same, eight scores per comparison: nearly all fall below the bar
// once the heap is full, so the loop is a load, a compare and a branch.
__attribute__((target("avx2"))) void ScanAvx2(const float* scores,
                                              int64_t count,
                                              const EntryId* ids,
                                              Selection* selection) {
  int64_t j = 0;
  __m256 bar = _mm256_set1_ps(selection->bar());
  for (; j + 8 <= count; j += 8) {
    const __m256 v = _mm256_loadu_ps(scores + j);
    int mask = _mm256_movemask_ps(_mm256_cmp_ps(v, bar, _CMP_GE_OQ));
    if (mask == 0) continue;
    while (mask != 0) {
      const int lane = __builtin_ctz(mask);
      mask &= mask - 1;
      // The bar may have risen since the compare.
      if (scores[j + lane] >= selection->bar()) {
        selection->Offer(ids[j + lane], scores[j + lane]);
      }
    }
    bar = _mm256_set1_ps(selection->bar());
  }
  ScanScalar(scores + j, count - j, ids + j, selection);
}

using ScanFn = void (*)(const float*, int64_t, const EntryId*, Selection*);

ScanFn ChooseScan() {
  return __builtin_cpu_supports("avx2") ? ScanAvx2 : ScanScalar;
}

}  // namespace

void SetCpuFlatThreads(int threads) {
  g_threads.store(std::max(1, threads), std::memory_order_relaxed);
}

int CpuFlatThreads() {
  const int threads = g_threads.load(std::memory_order_relaxed);
  if (threads > 0) return threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

absl::StatusOr<std::unique_ptr<CpuFlatIndex>> CpuFlatIndex::Create(
    int dimension, const Options& options) {
  if (dimension <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("index dimension must be positive, got ", dimension));
  }
  if (options.tile_rows < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("tile_rows must be >= 0, got ", options.tile_rows));
  }
  const CpuBlas& blas =
      options.blas != nullptr ? *options.blas : ServingBlas();
  return std::unique_ptr<CpuFlatIndex>(
      new CpuFlatIndex(dimension, options, blas));
}

CpuFlatIndex::CpuFlatIndex(int dimension, const Options& options,
                           const CpuBlas& blas)
    : dimension_(dimension),
      tile_rows_(options.tile_rows),
      min_parallel_flops_(options.min_parallel_flops < 0
                              ? kParallelFlops
                              : options.min_parallel_flops),
      blas_(blas) {}

absl::Status CpuFlatIndex::Add(absl::Span<const EntryId> ids,
                               absl::Span<const float> vectors) {
  if (vectors.size() != ids.size() * static_cast<size_t>(dimension_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Add: ", vectors.size(), " floats for ", ids.size(),
                     " ids of dimension ", dimension_));
  }
  // All checks before any change: a rejected Add leaves the index as it was.
  absl::flat_hash_set<EntryId> batch;
  batch.reserve(ids.size());
  for (EntryId id : ids) {
    if (position_.contains(id) || !batch.insert(id).second) {
      return absl::AlreadyExistsError(
          absl::StrCat("Add: entry id ", id, " is already in the index"));
    }
  }
  const int64_t first = size();
  rows_.insert(rows_.end(), vectors.begin(), vectors.end());
  ids_.insert(ids_.end(), ids.begin(), ids.end());
  for (size_t i = 0; i < ids.size(); ++i) {
    position_[ids[i]] = first + static_cast<int64_t>(i);
  }
  return absl::OkStatus();
}

absl::Status CpuFlatIndex::Remove(absl::Span<const EntryId> ids) {
  absl::flat_hash_set<EntryId> batch;
  batch.reserve(ids.size());
  for (EntryId id : ids) {
    if (!position_.contains(id) || !batch.insert(id).second) {
      return absl::NotFoundError(
          absl::StrCat("Remove: entry id ", id, " is not in the index"));
    }
  }
  const size_t d = static_cast<size_t>(dimension_);
  for (EntryId id : ids) {
    auto it = position_.find(id);
    const int64_t row = it->second;
    position_.erase(it);
    const int64_t last = size() - 1;
    if (row != last) {
      std::memcpy(rows_.data() + row * d, rows_.data() + last * d,
                  d * sizeof(float));
      ids_[row] = ids_[last];
      position_[ids_[row]] = row;
    }
    ids_.pop_back();
    rows_.resize(rows_.size() - d);
  }
  return absl::OkStatus();
}

int CpuFlatIndex::TileRows(int64_t probes) const {
  if (tile_rows_ > 0) return tile_rows_;
  const int64_t rows = kTileFloats / std::max<int64_t>(probes, 1);
  return static_cast<int>(std::clamp<int64_t>(rows, kMinTileRows, kMaxTileRows));
}

absl::StatusOr<SearchHits> CpuFlatIndex::Search(
    absl::Span<const float> probes,
    absl::Span<const ProbeQuery> queries) const {
  const int64_t d = dimension_;
  if (probes.size() != queries.size() * static_cast<size_t>(d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Search: ", probes.size(), " floats for ", queries.size(),
                     " probes of dimension ", d));
  }
  const int64_t m_total = static_cast<int64_t>(queries.size());
  const int64_t n = size();
  SearchHits hits(static_cast<size_t>(m_total));
  if (m_total == 0 || n == 0) return hits;

  for (int64_t p0 = 0; p0 < m_total; p0 += kMaxProbesPerPass) {
    const int64_t m = std::min(kMaxProbesPerPass, m_total - p0);
    SearchPass(probes.data() + p0 * d, queries.subspan(p0, m),
               m_total < kCpuFlatPairwiseBelowProbes,
               absl::MakeSpan(hits).subspan(p0, m));
  }
  return hits;
}

void CpuFlatIndex::SearchPass(const float* probes,
                              absl::Span<const ProbeQuery> queries,
                              bool pairwise,
                              absl::Span<std::vector<ScoredId>> out) const {
  static const ScanFn scan = ChooseScan();
  const int64_t m = static_cast<int64_t>(queries.size());
  const int64_t n = size();
  const int64_t d = dimension_;
  const int64_t tile_rows = std::min<int64_t>(TileRows(m), n);
  const int64_t tiles = (n + tile_rows - 1) / tile_rows;
  // Small searches stay on the calling thread: a thread start costs more
  // than they do.
  const int64_t flops = 2 * m * n * d;
  // A library running threads of its own gets each call alone.
  const bool parallel = flops >= min_parallel_flops_ && blas_.threads() == 1;
  const int workers = static_cast<int>(
      std::min<int64_t>(parallel ? CpuFlatThreads() : 1, tiles));

  // Each worker takes the next tile until none is left (a worker the
  // scheduler holds back costs only its current tile), with its own
  // selections; the answers are merged at the end.
  // Worker w starts with tile w (so each has one, even when the calling
  // thread could finish them all before a helper starts), then all share
  // a counter.
  std::atomic<int64_t> next_tile{workers};
  std::vector<std::vector<Selection>> selections(workers);
  const auto work = [&](int w) {
    std::vector<Selection>& mine = selections[w];
    mine.reserve(static_cast<size_t>(m));
    for (int64_t i = 0; i < m; ++i) mine.emplace_back(queries[i], n);
    // Reused across searches on this thread.
    thread_local std::vector<float> tile;
    tile.resize(static_cast<size_t>(m * tile_rows));
    for (int64_t t = w; t < tiles; t = next_tile.fetch_add(1)) {
      const int64_t r0 = t * tile_rows;
      const int64_t rows = std::min(tile_rows, n - r0);
      if (pairwise) {
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t r = 0; r < rows; ++r) {
            tile[i * rows + r] = faiss::fvec_inner_product(
                probes + i * d, rows_.data() + (r0 + r) * d,
                static_cast<size_t>(d));
          }
        }
      } else {
        blas_.Scores(static_cast<int>(m), static_cast<int>(rows),
                     static_cast<int>(d), probes, static_cast<int>(d),
                     rows_.data() + r0 * d, static_cast<int>(d), tile.data(),
                     static_cast<int>(rows));
      }
      for (int64_t i = 0; i < m; ++i) {
        if (mine[i].closed()) continue;
        scan(tile.data() + i * rows, rows, ids_.data() + r0, &mine[i]);
      }
    }
  };
  std::vector<std::thread> helpers;
  helpers.reserve(static_cast<size_t>(workers - 1));
  for (int w = 1; w < workers; ++w) helpers.emplace_back(work, w);
  work(0);
  for (std::thread& t : helpers) t.join();

  for (int64_t i = 0; i < m; ++i) {
    std::vector<ScoredId> merged = std::move(selections[0][i]).Finish();
    for (int w = 1; w < workers; ++w) {
      std::vector<ScoredId> more = std::move(selections[w][i]).Finish();
      merged.insert(merged.end(), more.begin(), more.end());
    }
    if (workers > 1) {
      const size_t keep = std::min(
          merged.size(), static_cast<size_t>(std::max(queries[i].top_k, 0)));
      std::partial_sort(merged.begin(), merged.begin() + keep, merged.end(),
                        BetterCandidate);
      merged.resize(keep);
    }
    out[i] = std::move(merged);
  }
}

MemoryBytes CpuFlatIndex::memory() const {
  MemoryBytes bytes;
  bytes.host_bytes =
      rows_.capacity() * sizeof(float) + ids_.capacity() * sizeof(EntryId) +
      position_.capacity() * (sizeof(std::pair<EntryId, int64_t>) + 1);
  return bytes;
}

}  // namespace candor::index
