#include "bench/gemm/bench_gallery.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bench/common/gaussian_rows.h"

namespace candor::bench {
namespace {

// splitmix64 (Steele, Lea, Flood 2014) as a standard engine: one 64-bit
// state, so a row's engine costs nothing to seed (std::mt19937_64 fills
// 312 words, a third of the time a 512-float row takes).
class SplitMix64 {
 public:
  using result_type = uint64_t;
  explicit SplitMix64(uint64_t state) : state_(state) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

void MakeRow(uint64_t seed, int64_t row, int dim, float* out) {
  // Row r takes the sequence's draws from r x 2^32 on (a row takes about
  // 1.3 x dim): no two rows share one.
  SplitMix64 rng(seed +
                 (static_cast<uint64_t>(row) << 32) * 0x9e3779b97f4a7c15ULL);
  const std::vector<float> made = GaussianRowsFrom(1, dim, rng, true);
  std::copy(made.begin(), made.end(), out);
}

}  // namespace

void MakeGalleryRows(uint64_t seed, int64_t first, int64_t count, int dim,
                     int threads, float* out) {
  threads = static_cast<int>(std::clamp<int64_t>(threads, 1, count));
  auto part = [&](int t) {
    const int64_t begin = count * t / threads, end = count * (t + 1) / threads;
    for (int64_t r = begin; r < end; ++r) {
      MakeRow(seed, first + r, dim, out + r * dim);
    }
  };
  std::vector<std::thread> others;
  for (int t = 1; t < threads; ++t) others.emplace_back(part, t);
  part(0);
  for (std::thread& t : others) t.join();
}

const float* RemadeRows::Row(EntryId id) const {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<float[]>& row = rows_[id];
  if (row == nullptr) {
    row = std::make_unique<float[]>(dim_);
    MakeRow(seed_, static_cast<int64_t>(id) - 1, dim_, row.get());
  }
  return row.get();
}

int64_t RemadeRows::made() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(rows_.size());
}

int64_t AddChunkRows(int64_t total, int64_t max_rows) {
  int64_t chunk = std::max<int64_t>(total, 1);
  int64_t parts = 1;
  while (chunk > max_rows) {
    parts *= 2;
    chunk = (total + parts - 1) / parts;
  }
  return chunk;
}

absl::Status AddMadeRows(index::Index& index, uint64_t seed, int64_t entries,
                         int dim, int threads, int64_t max_chunk_rows) {
  const int64_t chunk = AddChunkRows(entries, max_chunk_rows);
  std::vector<float> rows(static_cast<size_t>(std::min(chunk, entries)) * dim);
  std::vector<EntryId> ids;
  for (int64_t first = 0; first < entries; first += chunk) {
    const int64_t count = std::min(chunk, entries - first);
    MakeGalleryRows(seed, first, count, dim, threads, rows.data());
    ids.resize(count);
    std::iota(ids.begin(), ids.end(), static_cast<EntryId>(first + 1));
    absl::Status s = index.Add(
        ids,
        absl::MakeConstSpan(rows.data(), static_cast<size_t>(count) * dim));
    if (!s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("adding rows ", first, "..", first + count,
                                 ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace candor::bench
