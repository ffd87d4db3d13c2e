// The bf16 inner-product kernels of the bf16 flat index: gallery rows held
// as bf16, probes packed once per batch, fp32 accumulation. Three code
// paths, chosen at run time so that one binary runs on any x86-64 CPU:
//
//   kAvx512Bf16  AVX512_BF16's vdpbf16ps (probes rounded to bf16 too):
//                16 probes per register, 12 gallery rows per micro-tile.
//   kAvx2        bf16 rows widened to fp32, fp32 FMA against fp32 probes.
//   kScalar      the same in plain C++ (CPUs without AVX2).
//
// Every path accumulates each score in fp32; the error bound that makes
// the index exact (bf16_flat_index.h) holds for all three.
#ifndef CANDOR_SERVER_INDEX_BF16_KERNEL_H_
#define CANDOR_SERVER_INDEX_BF16_KERNEL_H_

#include <cstdint>
#include <vector>

namespace candor::index {

enum class Bf16Kernel { kScalar, kAvx2, kAvx512Bf16 };

// The fastest path this CPU supports (CPUID, at run time).
Bf16Kernel BestBf16Kernel();
// False when the CPU lacks the instructions the path needs.
bool Bf16KernelSupported(Bf16Kernel kernel);
// "avx512_bf16", "avx2", "scalar".
const char* Bf16KernelName(Bf16Kernel kernel);

// fp32 -> bf16, round to nearest even (NaN stays NaN).
uint16_t FloatToBf16(float x);
inline float Bf16ToFloat(uint16_t b) {
  uint32_t bits = uint32_t{b} << 16;
  float f;
  __builtin_memcpy(&f, &bits, sizeof f);
  return f;
}

// Rows are padded to an even number of bf16 (vdpbf16ps works on pairs).
inline int Bf16PaddedDim(int dimension) { return (dimension + 1) & ~1; }

// Probes in the layout a kernel reads. Probe count rounded up to a
// multiple of 16; padding probes are zero.
struct PackedProbes {
  Bf16Kernel kernel = Bf16Kernel::kScalar;
  int count = 0;         // probes packed (before padding)
  int padded_count = 0;  // multiple of 16
  int padded_dim = 0;    // Bf16PaddedDim(dimension)
  // kAvx512Bf16: per block of 16 probes, per pair of dimensions, 16 u32
  // (each a probe's two bf16). Other paths: fp32 rows of padded_dim.
  std::vector<uint32_t> words;
  std::vector<float> floats;
};

// Packs `count` fp32 probe rows of `dimension` floats.
void PackProbes(Bf16Kernel kernel, const float* probes, int count,
                int dimension, PackedProbes* out);

// scores[r * probes.padded_count + j] = score of gallery row r (of
// `rows`, each padded_dim bf16) against probe j. scores holds rows *
// padded_count floats.
void ScoreBf16Rows(const uint16_t* gallery, int64_t rows,
                   const PackedProbes& probes, float* scores);

}  // namespace candor::index

#endif  // CANDOR_SERVER_INDEX_BF16_KERNEL_H_
