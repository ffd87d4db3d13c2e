#include "server/index/bf16_kernel.h"

#include <immintrin.h>

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

using MicroTileFn = void (*)(const uint16_t*, int64_t, const uint32_t*,
                             int64_t, int, float*, int64_t);

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
  const int64_t block_stride = int64_t{pairs} * 16;
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
    for (int j = 0; j < probes.padded_count; ++j) {
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
    for (int j = 0; j < probes.padded_count; ++j) {
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
  }
  return false;
}

Bf16Kernel BestBf16Kernel() {
  static const Bf16Kernel best = [] {
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
  }
  return "unknown";
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
  if (kernel == Bf16Kernel::kAvx512Bf16) {
    const int pairs = dp / 2;
    out->floats.clear();
    out->words.assign(static_cast<size_t>(out->padded_count) * pairs, 0);
    for (int j = 0; j < count; ++j) {
      const float* p = probes + static_cast<size_t>(j) * dimension;
      uint32_t* block =
          out->words.data() + static_cast<size_t>(j / 16) * pairs * 16;
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
      ScoreAvx512Bf16(gallery, rows, probes, scores);
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
