// Exact inner-product search on the CPU over bf16 vectors: half the bytes
// per entry of the fp32 flat index and, where the CPU has AVX512_BF16,
// twice the multiply-adds per instruction, with exactly the fp32 answer.
//
// How the answer stays exact. Each probe's scores are first computed from
// bf16 vectors (bf16_kernel.h); every score s~ is within B of the fp32
// score F that the answer is made of (the bound below). Then:
//   - a row with s~ < threshold - B has F < threshold: out;
//   - with S the k-th largest s~ of the probe, k rows have F >= S - B, so a
//     row with s~ < S - 2B has F < S - B and k rows beat it: out.
// Every other row is rescored in fp32 (from Fp32RowSource) and the answer
// is selected from those fp32 scores as the fp32 index selects it: F >=
// threshold, best first, ties by ascending entry id, at most top_k. Rows
// left out lose to k rows or to the threshold whatever their id, so the
// candidates, their order and their (fp32) scores are the fp32 answer's.
//
// F is the fp32 flat index's own score: the same GEMM (Fp32ScoreFn), 16
// probes per call over the union of their surviving rows. OpenBLAS sums
// products of at most 10^6 multiply-adds with a small-matrix kernel that
// rounds differently, so a rescoring call is padded with zero rows past
// that size whenever the fp32 index's call over the gallery is past it.
// (One edge remains: a last tile of the fp32 index small enough for that
// kernel, at most 10^6 / (probes x dimension) rows, scores its rows with
// it, and those scores can differ from the bf16 index's in the last bit.)
//
// The bound B. p: the probe, g: a gallery row (fp32, dimension n, padded
// with zeros to n' = n rounded up to even), u_b = 2^-8 (bf16 keeps 8
// significant bits; round-to-nearest-even gives |x - bf16(x)| <= u_b |x|),
// u = 2^-24 (fp32), gamma_m = m u / (1 - m u).
//   (1) Rounding: p' = bf16(p), g' = bf16(g) componentwise, so
//       p'_i g'_i = p_i g_i (1 + d1)(1 + d2), |d| <= u_b, and
//       |p.g - p'.g'| <= (2 u_b + u_b^2) sum |p_i g_i|
//                     <= (2 u_b + u_b^2) ||p|| ||g||     (Cauchy-Schwarz).
//       (Paths that keep the probe in fp32 have only u_b here.)
//   (2) Kernel: bf16 x bf16 products are exact in fp32 (8 + 8 significant
//       bits); each score is a sum of n' such products accumulated in fp32,
//       in whatever order the instruction uses, so with at most n' + 1
//       roundings per term and allowing a rounding of up to 2u (in case
//       the hardware rounds other than to nearest),
//       |s~ - p'.g'| <= gamma'_{n'+1} sum |p'_i g'_i|
//                    <= gamma'_{n'+1} (1 + u_b)^2 ||p|| ||g||,
//       gamma' with 2u for u. vdpbf16ps (and AMX's tdpbf16ps) treat
//       denormal inputs and outputs as zero: a flushed output moves the
//       sum by less than 2^-126 in each of the <= 2 n' operations, so
//       + 2 n' 2^-126; a flushed input (|x| < 2^-126) drops a product
//       x y with |x y| < 2^-126 |y|, and these sum to less than
//       2^-126 (||p'||_1 + ||g'||_1) <= 2^-126 sqrt(n') (1 + u_b)
//       (||p|| + ||g||).
//   (3) The fp32 score F is itself a sum of n fp32 products:
//       |F - p.g| <= gamma_n ||p|| ||g||.
//   B = [2 u_b + u_b^2 + gamma'_{n'+1} (1 + u_b)^2 + gamma_n] ||p|| G
//       + 2 n' 2^-126 + 2^-126 sqrt(n') (1 + u_b) (||p|| + G),
// with ||p|| computed in double per probe and G the largest ||g|| ever
// added (in double; normalized rows give G ~ 1). For unit vectors and
// n = 512, B ~ 0.0079. The index widens it by 1/16 and rounds every cut
// toward admitting more rows; tests/index/bf16_flat_index_test.cc checks
// the answer against the fp32 index with scores packed within 1e-4 of the
// threshold and of each other at the top-k boundary.
#ifndef CANDOR_SERVER_INDEX_BF16_FLAT_INDEX_H_
#define CANDOR_SERVER_INDEX_BF16_FLAT_INDEX_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/index/bf16_kernel.h"
#include "server/index/index.h"

namespace candor::index {

// Where the bf16 index reads the fp32 vectors it rescores: the row that
// was passed to Add for a live entry id. Called during Search only (under
// the gallery's reader lock, when no Add or Remove runs); the pointer need
// stay valid only until Search returns.
class Fp32RowSource {
 public:
  virtual ~Fp32RowSource() = default;
  virtual const float* Row(EntryId id) const = 0;
};

// The fp32 scores the answer is made of: c[i * n + j] = score of probe i
// against row j, m probes and n rows of k floats each (row-major, packed).
// The fp32 flat index's own GEMM, so that the bf16 gallery reports the
// very scores an fp32 gallery reports.
using Fp32ScoreFn = std::function<void(int m, int n, int k, const float* probes,
                                       const float* rows, float* c)>;

struct Bf16FlatIndexOptions {
  int dimension = 0;
  // Not owned; outlives the index. Null: the index keeps its own fp32
  // copy of every row (tests, and callers with no copy of their own).
  const Fp32RowSource* fp32_rows = nullptr;
  // Empty: faiss::fvec_inner_product per (probe, row).
  Fp32ScoreFn fp32_scores;
  // A GEMM library may score small products (at most this many
  // multiply-adds, m x n x k) with another kernel whose sums round
  // differently (OpenBLAS's small-matrix kernel). Where the fp32 index's
  // call over the whole gallery is above this, the rescoring call is padded
  // with zero rows to be above it too, so both take the same kernel.
  // 0: no padding.
  int64_t fp32_scores_small_madds = 0;
  // Which kernel; Create refuses one the CPU does not support.
  Bf16Kernel kernel = BestBf16Kernel();
  // OpenMP threads per Search (0: every core).
  int threads = 0;
};

class Bf16FlatIndex final : public Index {
 public:
  static absl::StatusOr<std::unique_ptr<Bf16FlatIndex>> Create(
      const Bf16FlatIndexOptions& options);

  std::string backend() const override { return "cpu-bf16"; }
  int dimension() const override { return options_.dimension; }
  int64_t size() const override { return static_cast<int64_t>(ids_.size()); }
  absl::Status Add(absl::Span<const EntryId> ids,
                   absl::Span<const float> vectors) override;
  absl::Status Remove(absl::Span<const EntryId> ids) override;
  absl::StatusOr<SearchHits> Search(
      absl::Span<const float> probes,
      absl::Span<const ProbeQuery> queries) const override;
  MemoryBytes memory() const override;

  Bf16Kernel kernel() const { return options_.kernel; }
  // B / (||p|| G) for this dimension, before the 1/16 widening (tests).
  static double RelativeErrorBound(int dimension);

 private:
  explicit Bf16FlatIndex(const Bf16FlatIndexOptions& options);
  const float* Fp32Row(size_t row) const;
  // Scores each probe's surviving rows in fp32 and selects its answer.
  void Rescore(const float* probes, absl::Span<const ProbeQuery> queries,
               const std::vector<std::vector<int64_t>>& survivors,
               int threads, int batch_probes,
               std::vector<ScoredId>* hits) const;

  const Bf16FlatIndexOptions options_;
  const int padded_dim_;
  // size() rows of padded_dim_ bf16, rows as ids_.
  std::vector<uint16_t> rows_;
  std::vector<EntryId> ids_;
  absl::flat_hash_map<EntryId, size_t> row_of_;
  // Rows as ids_, when options_.fp32_rows is null.
  std::vector<float> own_fp32_;
  // Largest L2 norm of any row added (never lowered by Remove: the bound
  // stays safe).
  double max_norm_ = 0.0;
};

}  // namespace candor::index

#endif  // CANDOR_SERVER_INDEX_BF16_FLAT_INDEX_H_
