#include "server/index/bf16_kernel.h"

#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

namespace candor::index {
namespace {

// Compiled for these targets whatever the build's -march, and entered only
// after the CPU has been asked (BestBf16Kernel), so the binary still runs
// on CPUs without them.
#define CANDOR_AVX512BF16 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define CANDOR_AVX2 __attribute__((target("avx2,fma")))
#define CANDOR_AMX __attribute__((target("amx-tile,amx-bf16")))

// Micro-tile sizes of the AVX512_BF16 path: kRows gallery rows x kBlocks
// blocks of 16 probes = 24 accumulators, plus the kBlocks probe registers
// and one broadcast row pair: 27 of the 32 zmm registers.
constexpr int kRows = 12;
constexpr int kBlocks = 2;

inline uint32_t LoadPair(const uint16_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The r and b loops must unroll fully so that the accumulators live in
// registers (without the pragmas GCC keeps them on the stack: a load and a
// store around every vdpbf16ps).
template <int R, int PB>
CANDOR_AVX512BF16 void MicroTileBf16(const uint16_t* rows, int64_t row_stride,
                                     const uint32_t* blocks,
                                     int64_t block_stride, int pairs,
                                     float* out, int64_t out_stride) {
  __m512 acc[R][PB];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 2
    for (int b = 0; b < PB; ++b) acc[r][b] = _mm512_setzero_ps();
  }
  for (int k = 0; k < pairs; ++k) {
    __m512bh p[PB];
#pragma GCC unroll 2
    for (int b = 0; b < PB; ++b) {
      p[b] = (__m512bh)_mm512_loadu_si512(blocks + b * block_stride + k * 16);
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512bh g = (__m512bh)_mm512_set1_epi32(
          static_cast<int>(LoadPair(rows + r * row_stride + 2 * k)));
#pragma GCC unroll 2
      for (int b = 0; b < PB; ++b) {
        acc[r][b] = _mm512_dpbf16_ps(acc[r][b], g, p[b]);
      }
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 2
    for (int b = 0; b < PB; ++b) {
      _mm512_storeu_ps(out + r * out_stride + b * 16, acc[r][b]);
    }
  }
}

using MicroTileFn = void (*)(const uint16_t*, int64_t, const uint32_t*, int64_t,
                             int, float*, int64_t);

template <int PB, int... Rs>
constexpr auto MakeTable(std::integer_sequence<int, Rs...>) {
  return std::array<MicroTileFn, sizeof...(Rs)>{&MicroTileBf16<Rs + 1, PB>...};
}

CANDOR_AVX512BF16 void ScoreAvx512Bf16(const uint16_t* gallery, int64_t rows,
                                       const PackedProbes& probes,
                                       float* scores) {
  static constexpr auto kOne =
      MakeTable<1>(std::make_integer_sequence<int, kRows>());
  static constexpr auto kTwo =
      MakeTable<2>(std::make_integer_sequence<int, kRows>());
  const int dp = probes.padded_dim;
  const int pairs = dp / 2;
  const int nblocks = probes.padded_count / 16;
  const int64_t block_stride = int64_t{probes.block_pairs} * 16;
  const int64_t out_stride = probes.padded_count;
  for (int64_t r0 = 0; r0 < rows; r0 += kRows) {
    const int r = static_cast<int>(std::min<int64_t>(kRows, rows - r0));
    const uint16_t* g = gallery + r0 * dp;
    for (int b = 0; b < nblocks; b += kBlocks) {
      const uint32_t* blocks = probes.words.data() + b * block_stride;
      float* out = scores + r0 * out_stride + b * 16;
      const auto& table = nblocks - b >= 2 ? kTwo : kOne;
      table[r - 1](g, dp, blocks, block_stride, pairs, out, out_stride);
    }
  }
}

// Fewer than kBf16FewProbes probes (PackedProbes::by_probe): rows are read
// as vectors of 32 bf16 and dotted with each probe's row, kFewRows rows x
// P probes accumulators, each summed across its lanes at the end. A
// 16-probe block would cost as much for one probe as for sixteen.
constexpr int kFewRows = 4;
constexpr int kFewProbes = 4;  // probes per pass over a few rows

// The sum of v's 16 lanes. (The masked forms: GCC 12's unmasked shuffles
// and _mm512_reduce_add_ps trip -Wuninitialized inside its own header.)
CANDOR_AVX512BF16 inline float SumLanes(__m512 v) {
  constexpr __mmask16 kAll = 0xffff;
  v = _mm512_add_ps(
      v, _mm512_mask_shuffle_f32x4(v, kAll, v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_ps(
      v, _mm512_mask_shuffle_f32x4(v, kAll, v, v, _MM_SHUFFLE(2, 3, 0, 1)));
  v = _mm512_add_ps(
      v, _mm512_mask_permute_ps(v, kAll, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_ps(
      v, _mm512_mask_permute_ps(v, kAll, v, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm512_cvtss_f32(v);
}

template <int R, int P>
CANDOR_AVX512BF16 void FewTileBf16(const uint16_t* rows, int64_t row_stride,
                                   int steps, __mmask32 tail,
                                   const uint32_t* probes, int64_t probe_stride,
                                   float* out, int64_t out_stride) {
  __m512 acc[R][P];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int j = 0; j < P; ++j) acc[r][j] = _mm512_setzero_ps();
  }
  auto step = [&](int s, __mmask32 mask) CANDOR_AVX512BF16 {
    __m512bh g[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      g[r] = (__m512bh)_mm512_maskz_loadu_epi16(mask,
                                                rows + r * row_stride + 32 * s);
    }
#pragma GCC unroll 4
    for (int j = 0; j < P; ++j) {
      const __m512bh p =
          (__m512bh)_mm512_loadu_si512(probes + j * probe_stride + 16 * s);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
        acc[r][j] = _mm512_dpbf16_ps(acc[r][j], g[r], p);
    }
  };
  for (int s = 0; s < steps; ++s) step(s, ~__mmask32{0});
  if (tail != 0) step(steps, tail);
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int j = 0; j < P; ++j) {
      out[r * out_stride + j] = SumLanes(acc[r][j]);
    }
  }
}

using FewTileFn = void (*)(const uint16_t*, int64_t, int, __mmask32,
                           const uint32_t*, int64_t, float*, int64_t);

template <int R, int... Ps>
constexpr std::array<FewTileFn, sizeof...(Ps)> FewRow(
    std::integer_sequence<int, Ps...>) {
  return {&FewTileBf16<R, Ps + 1>...};
}

template <int... Rs>
constexpr auto FewTable(std::integer_sequence<int, Rs...>) {
  return std::array<std::array<FewTileFn, kFewProbes>, sizeof...(Rs)>{
      FewRow<Rs + 1>(std::make_integer_sequence<int, kFewProbes>())...};
}

CANDOR_AVX512BF16 void ScoreFewAvx512Bf16(const uint16_t* gallery, int64_t rows,
                                          const PackedProbes& probes,
                                          float* scores) {
  static constexpr auto kTable =
      FewTable(std::make_integer_sequence<int, kFewRows>());
  const int dp = probes.padded_dim;
  const int steps = dp / 32;
  const int rest = dp % 32;
  const __mmask32 tail =
      rest == 0 ? 0 : static_cast<__mmask32>((uint64_t{1} << rest) - 1);
  const int64_t probe_stride = probes.block_pairs;
  const int64_t out_stride = probes.padded_count;
  for (int64_t r0 = 0; r0 < rows; r0 += kFewRows) {
    const int nr = static_cast<int>(std::min<int64_t>(kFewRows, rows - r0));
    float* out = scores + r0 * out_stride;
    for (int j0 = 0; j0 < probes.count; j0 += kFewProbes) {
      const int np = std::min(kFewProbes, probes.count - j0);
      kTable[nr - 1][np - 1](gallery + r0 * dp, dp, steps, tail,
                             probes.words.data() + j0 * probe_stride,
                             probe_stride, out + j0, out_stride);
    }
    for (int r = 0; r < nr; ++r) {
      std::fill(out + r * out_stride + probes.count, out + (r + 1) * out_stride,
                0.0f);
    }
  }
}

// AMX. Tiles 0-3 accumulate (16 rows x 16 probes of fp32 each: rows
// r0..r0+15 / r0+16..r0+31 x probe blocks b / b+1), tiles 4-5 hold 16 rows
// x 32 bf16 of the gallery, tiles 6-7 16 pairs x 16 probes (a block's
// words). Each tile is 16 rows of 64 bytes.
struct AmxTileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

constexpr int kAmxRows = 32;  // rows per group (two A tiles)
constexpr int kAmxDims = 32;  // bf16 per row of an A tile (64 bytes)

// Rows [0, 32) of `a` (stride a_stride bf16) against probe block b (and
// b + 1 when kTwo): steps [0, steps) read the rows, then one more step
// reads `tail` (32 rows x 32 bf16) when it is not null. Scores go to
// out[r * out_stride + 16 b + j].
template <bool kTwo>
CANDOR_AMX void AmxGroup(const uint16_t* a, int64_t a_stride, int steps,
                         const uint16_t* tail, const uint32_t* block,
                         int64_t block_stride, float* out, int64_t out_stride) {
  const uint16_t* a1 = a + 16 * a_stride;
  const uint32_t* block1 = block + block_stride;
  const int64_t a_bytes = a_stride * 2;
  _tile_zero(0);
  _tile_zero(2);
  if (kTwo) {
    _tile_zero(1);
    _tile_zero(3);
  }
  for (int s = 0; s < steps; ++s) {
    _tile_loadd(4, a + s * kAmxDims, a_bytes);
    _tile_loadd(6, block + s * 256, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_loadd(5, a1 + s * kAmxDims, a_bytes);
    _tile_dpbf16ps(2, 5, 6);
    if (kTwo) {
      _tile_loadd(7, block1 + s * 256, 64);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
  if (tail != nullptr) {
    _tile_loadd(4, tail, 64);
    _tile_loadd(6, block + steps * 256, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_loadd(5, tail + 16 * kAmxDims, 64);
    _tile_dpbf16ps(2, 5, 6);
    if (kTwo) {
      _tile_loadd(7, block1 + steps * 256, 64);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
  const int64_t out_bytes = out_stride * 4;
  _tile_stored(0, out, out_bytes);
  _tile_stored(2, out + 16 * out_stride, out_bytes);
  if (kTwo) {
    _tile_stored(1, out + 16, out_bytes);
    _tile_stored(3, out + 16 * out_stride + 16, out_bytes);
  }
}

// Groups of 32 rows, each against every probe block, two blocks at a time
// (the group's rows stay in L1 while the probes stream from L2). A tile
// reads whole 64-byte rows, so the last step of a dimension that is not a
// multiple of 32 reads a zero-padded copy of its columns, and a last group
// of fewer than 32 rows is copied whole (scores through a scratch block):
// nothing past the gallery is read and nothing past `scores` written.
CANDOR_AMX void ScoreAmxBf16(const uint16_t* gallery, int64_t rows,
                             const PackedProbes& probes, float* scores) {
  const int dp = probes.padded_dim;
  const int steps = dp / kAmxDims;
  const int rest = dp % kAmxDims;
  const int nblocks = probes.padded_count / 16;
  const int64_t block_stride = int64_t{probes.block_pairs} * 16;
  const int64_t out_stride = probes.padded_count;
  thread_local std::vector<uint16_t> tail, part;
  thread_local std::vector<float> part_scores;
  tail.assign(size_t{kAmxRows} * kAmxDims, 0);

  AmxTileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.rows[t] = 16;
    config.colsb[t] = 64;
  }
  _tile_loadconfig(&config);
  for (int64_t r0 = 0; r0 < rows; r0 += kAmxRows) {
    const int nr = static_cast<int>(std::min<int64_t>(kAmxRows, rows - r0));
    const uint16_t* a = gallery + r0 * dp;
    float* out = scores + r0 * out_stride;
    if (nr < kAmxRows) {
      part.assign(size_t{kAmxRows} * dp, 0);
      std::copy_n(a, size_t(nr) * dp, part.data());
      a = part.data();
      part_scores.resize(size_t{kAmxRows} * out_stride);
      out = part_scores.data();
    }
    if (rest != 0) {
      for (int r = 0; r < kAmxRows; ++r) {
        std::copy_n(a + int64_t{r} * dp + steps * kAmxDims, rest,
                    tail.data() + r * kAmxDims);
      }
    }
    const uint16_t* t = rest != 0 ? tail.data() : nullptr;
    int b = 0;
    for (; b + 1 < nblocks; b += 2) {
      AmxGroup<true>(a, dp, steps, t, probes.words.data() + b * block_stride,
                     block_stride, out + b * 16, out_stride);
    }
    if (b < nblocks) {
      AmxGroup<false>(a, dp, steps, t, probes.words.data() + b * block_stride,
                      block_stride, out + b * 16, out_stride);
    }
    if (nr < kAmxRows) {
      std::copy_n(part_scores.data(), size_t(nr) * out_stride,
                  scores + r0 * out_stride);
    }
  }
  _tile_release();
}

// CPUID says the core has AMX-TILE and AMX-BF16 and the OS saves tile
// state (XCR0 bits 17 and 18), and Linux gives this process leave to use
// it (arch_prctl ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA; asked once,
// for every thread of the process).
bool AmxUsable() {
  static const bool usable = [] {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) {
      return false;  // no OSXSAVE: xgetbv would fault
    }
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    const bool amx_bf16 = edx & (1u << 22), amx_tile = edx & (1u << 24);
    if (!amx_bf16 || !amx_tile) return false;
    uint32_t xcr0_lo, xcr0_hi;
    __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    constexpr uint32_t kTileState = (1u << 17) | (1u << 18);
    if ((xcr0_lo & kTileState) != kTileState) return false;
#if defined(__linux__)
    constexpr long kArchReqXcompPerm = 0x1023;
    constexpr long kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
    return false;
#endif
  }();
  return usable;
}

// Rows widened to fp32 four at a time, each probe dotted with all four.
constexpr int kWideRows = 4;

CANDOR_AVX2 void ScoreAvx2(const uint16_t* gallery, int64_t rows,
                           const PackedProbes& probes, float* scores) {
  const int dp = probes.padded_dim;
  const int fd = (dp + 7) & ~7;
  thread_local std::vector<float> wide;
  wide.assign(static_cast<size_t>(kWideRows) * fd, 0.0f);
  for (int64_t r0 = 0; r0 < rows; r0 += kWideRows) {
    const int nr = static_cast<int>(std::min<int64_t>(kWideRows, rows - r0));
    for (int r = 0; r < kWideRows; ++r) {
      float* w = wide.data() + r * fd;
      if (r >= nr) {
        std::fill(w, w + fd, 0.0f);
        continue;
      }
      const uint16_t* g = gallery + (r0 + r) * dp;
      for (int i = 0; i < dp; ++i) w[i] = Bf16ToFloat(g[i]);
    }
    for (int r = 0; r < nr; ++r) {
      float* out = scores + (r0 + r) * probes.padded_count;
      std::fill(out + probes.count, out + probes.padded_count, 0.0f);
    }
    for (int j = 0; j < probes.count; ++j) {
      const float* p = probes.floats.data() + static_cast<size_t>(j) * fd;
      __m256 acc[kWideRows];
      for (auto& a : acc) a = _mm256_setzero_ps();
      for (int i = 0; i < fd; i += 8) {
        const __m256 pv = _mm256_loadu_ps(p + i);
        for (int r = 0; r < kWideRows; ++r) {
          acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(wide.data() + r * fd + i),
                                   pv, acc[r]);
        }
      }
      for (int r = 0; r < nr; ++r) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[r]),
                              _mm256_extractf128_ps(acc[r], 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        scores[(r0 + r) * probes.padded_count + j] = _mm_cvtss_f32(s);
      }
    }
  }
}

void ScoreScalar(const uint16_t* gallery, int64_t rows,
                 const PackedProbes& probes, float* scores) {
  const int dp = probes.padded_dim;
  const int fd = (dp + 7) & ~7;
  for (int64_t r = 0; r < rows; ++r) {
    const uint16_t* g = gallery + r * dp;
    float* out = scores + r * probes.padded_count;
    std::fill(out + probes.count, out + probes.padded_count, 0.0f);
    for (int j = 0; j < probes.count; ++j) {
      const float* p = probes.floats.data() + static_cast<size_t>(j) * fd;
      float acc = 0.0f;
      for (int i = 0; i < dp; ++i) acc += Bf16ToFloat(g[i]) * p[i];
      scores[r * probes.padded_count + j] = acc;
    }
  }
}

}  // namespace

bool Bf16KernelSupported(Bf16Kernel kernel) {
  switch (kernel) {
    case Bf16Kernel::kScalar:
      return true;
    case Bf16Kernel::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Bf16Kernel::kAvx512Bf16:
      return __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512bf16");
    case Bf16Kernel::kAmxBf16:
      // AVX-512F too: the index selects scores with it on these paths.
      return __builtin_cpu_supports("avx512f") && AmxUsable();
  }
  return false;
}

Bf16Kernel BestBf16Kernel() {
  static const Bf16Kernel best = [] {
    if (Bf16KernelSupported(Bf16Kernel::kAmxBf16)) {
      return Bf16Kernel::kAmxBf16;
    }
    if (Bf16KernelSupported(Bf16Kernel::kAvx512Bf16)) {
      return Bf16Kernel::kAvx512Bf16;
    }
    if (Bf16KernelSupported(Bf16Kernel::kAvx2)) return Bf16Kernel::kAvx2;
    return Bf16Kernel::kScalar;
  }();
  return best;
}

const char* Bf16KernelName(Bf16Kernel kernel) {
  switch (kernel) {
    case Bf16Kernel::kScalar:
      return "scalar";
    case Bf16Kernel::kAvx2:
      return "avx2";
    case Bf16Kernel::kAvx512Bf16:
      return "avx512_bf16";
    case Bf16Kernel::kAmxBf16:
      return "amx_bf16";
  }
  return "unknown";
}

bool Bf16KernelRoundsProbes(Bf16Kernel kernel) {
  return kernel == Bf16Kernel::kAvx512Bf16 || kernel == Bf16Kernel::kAmxBf16;
}

int Bf16KernelRowBlock(Bf16Kernel kernel) {
  switch (kernel) {
    case Bf16Kernel::kScalar:
      return 1;
    case Bf16Kernel::kAvx2:
      return kWideRows;
    case Bf16Kernel::kAvx512Bf16:
      return kRows;
    case Bf16Kernel::kAmxBf16:
      return kAmxRows;
  }
  return 1;
}

uint16_t FloatToBf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    return static_cast<uint16_t>((bits >> 16) | 0x40);  // quiet NaN
  }
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

void PackProbes(Bf16Kernel kernel, const float* probes, int count,
                int dimension, PackedProbes* out) {
  out->kernel = kernel;
  out->count = count;
  out->padded_count = (count + 15) & ~15;
  out->padded_dim = Bf16PaddedDim(dimension);
  const int dp = out->padded_dim;
  if (kernel == Bf16Kernel::kAvx512Bf16 && count < kBf16FewProbes) {
    // Each probe's bf16 row, in pairs, zero up to a multiple of 32 bf16.
    out->by_probe = true;
    out->block_pairs = (dp / 2 + 15) & ~15;
    out->floats.clear();
    out->words.assign(size_t(count) * out->block_pairs, 0);
    for (int j = 0; j < count; ++j) {
      const float* p = probes + static_cast<size_t>(j) * dimension;
      uint32_t* row = out->words.data() + size_t(j) * out->block_pairs;
      for (int c = 0; c < dimension; ++c) {
        row[c / 2] |= uint32_t{FloatToBf16(p[c])} << (16 * (c % 2));
      }
    }
    return;
  }
  out->by_probe = false;
  if (Bf16KernelRoundsProbes(kernel)) {
    const int pairs = dp / 2;
    // AMX reads 16 pairs per step: zero pairs past the dimension.
    out->block_pairs =
        kernel == Bf16Kernel::kAmxBf16 ? (pairs + 15) & ~15 : pairs;
    const size_t block_words = size_t(out->block_pairs) * 16;
    out->floats.clear();
    out->words.assign(size_t(out->padded_count / 16) * block_words, 0);
    for (int j = 0; j < count; ++j) {
      const float* p = probes + static_cast<size_t>(j) * dimension;
      uint32_t* block = out->words.data() + size_t(j / 16) * block_words;
      for (int k = 0; k < pairs; ++k) {
        const uint32_t lo = FloatToBf16(p[2 * k]);
        const uint32_t hi =
            2 * k + 1 < dimension ? FloatToBf16(p[2 * k + 1]) : 0;
        block[k * 16 + j % 16] = lo | (hi << 16);
      }
    }
    return;
  }
  const int fd = (dp + 7) & ~7;
  out->block_pairs = 0;
  out->words.clear();
  out->floats.assign(static_cast<size_t>(out->padded_count) * fd, 0.0f);
  for (int j = 0; j < count; ++j) {
    std::copy(probes + static_cast<size_t>(j) * dimension,
              probes + static_cast<size_t>(j + 1) * dimension,
              out->floats.data() + static_cast<size_t>(j) * fd);
  }
}

void ScoreBf16Rows(const uint16_t* gallery, int64_t rows,
                   const PackedProbes& probes, float* scores) {
  switch (probes.kernel) {
    case Bf16Kernel::kAvx512Bf16:
      if (probes.by_probe) {
        ScoreFewAvx512Bf16(gallery, rows, probes, scores);
      } else {
        ScoreAvx512Bf16(gallery, rows, probes, scores);
      }
      return;
    case Bf16Kernel::kAmxBf16:
      ScoreAmxBf16(gallery, rows, probes, scores);
      return;
    case Bf16Kernel::kAvx2:
      ScoreAvx2(gallery, rows, probes, scores);
      return;
    case Bf16Kernel::kScalar:
      ScoreScalar(gallery, rows, probes, scores);
      return;
  }
}

}  // namespace candor::index
