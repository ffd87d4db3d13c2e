// The bf16 inner-product kernels of the bf16 flat index: gallery rows held
// as bf16, probes packed once per batch, fp32 accumulation. Three code
// paths, chosen at run time so that one binary runs on any x86-64 CPU:
//
//   kAmxBf16     AMX's tdpbf16ps (probes rounded to bf16): tiles of 16
//                gallery rows x 16 probes, 32 dimensions per step, two by
//                two (32 rows x 32 probes in the four accumulator tiles).
//                Needs the kernel's leave to use AMX state (Linux 5.16+,
//                asked once per process by Bf16KernelSupported).
//   kAvx512Bf16  AVX512_BF16's vdpbf16ps (probes rounded to bf16 too):
//                16 probes per register, 12 gallery rows per micro-tile.
//   kAvx2        bf16 rows widened to fp32, fp32 FMA against fp32 probes.
//   kScalar      the same in plain C++ (CPUs without AVX2).
//
// Every path sums exact products in fp32 (bf16 x bf16 products need 16
// significant bits; the fp32 paths round each product once), in an order
// of its own; the error bound that makes the index exact
// (bf16_flat_index.h) allows any order and holds for all four.
// kScalar is the reference the others are tested against
// (tests/index/bf16_kernel_test.cc: every path against the float64 dot
// product of what it reads, on shapes that are multiples of no tile).
#ifndef CANDOR_SERVER_INDEX_BF16_KERNEL_H_
#define CANDOR_SERVER_INDEX_BF16_KERNEL_H_

#include <cstdint>
#include <vector>

namespace candor::index {

enum class Bf16Kernel { kScalar, kAvx2, kAvx512Bf16, kAmxBf16 };

// The fastest path this CPU supports (CPUID, at run time).
Bf16Kernel BestBf16Kernel();
// False when the CPU lacks the instructions the path needs.
bool Bf16KernelSupported(Bf16Kernel kernel);
// "amx_bf16", "avx512_bf16", "avx2", "scalar".
const char* Bf16KernelName(Bf16Kernel kernel);
// True for the paths that round probes to bf16 (kAmxBf16, kAvx512Bf16);
// the others multiply bf16 rows by fp32 probes.
bool Bf16KernelRoundsProbes(Bf16Kernel kernel);
// Gallery rows per micro-tile: ScoreBf16Rows wastes least when `rows` is
// a multiple of it.
int Bf16KernelRowBlock(Bf16Kernel kernel);

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

// Below this many probes kAvx512Bf16 reads the probes by_probe: its
// 16-probe blocks would cost as much for one probe as for sixteen.
inline constexpr int kBf16FewProbes = 8;

// Probes in the layout a kernel reads. Probe count rounded up to a
// multiple of 16; the scores of padding probes are 0.
struct PackedProbes {
  Bf16Kernel kernel = Bf16Kernel::kScalar;
  int count = 0;         // probes packed (before padding)
  int padded_count = 0;  // multiple of 16
  int padded_dim = 0;    // Bf16PaddedDim(dimension)
  // kAvx512Bf16, kAmxBf16: per block of 16 probes, block_pairs pairs of
  // dimensions, each 16 u32 (a probe's two bf16; zero past the dimension).
  // by_probe (kAvx512Bf16, count < kBf16FewProbes): per probe, its
  // block_pairs pairs as u32. Other paths: fp32 rows of padded_dim rounded
  // up to 8.
  int block_pairs = 0;  // padded_dim / 2; rounded up to 16 for kAmxBf16
                        // and by_probe
  bool by_probe = false;
  std::vector<uint32_t> words;
  std::vector<float> floats;
};

// Packs `count` fp32 probe rows of `dimension` floats.
void PackProbes(Bf16Kernel kernel, const float* probes, int count,
                int dimension, PackedProbes* out);

// scores[r * probes.padded_count + j] = score of gallery row r (of
// `rows`, each padded_dim bf16, host memory) against probe j. scores holds
// rows * padded_count floats. Reads no byte outside the rows; safe to call
// from several threads at once (AMX tile state is per thread, configured
// and released within the call).
void ScoreBf16Rows(const uint16_t* gallery, int64_t rows,
                   const PackedProbes& probes, float* scores);

}  // namespace candor::index

#endif  // CANDOR_SERVER_INDEX_BF16_KERNEL_H_
