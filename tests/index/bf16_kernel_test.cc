// Every bf16 kernel path against the float64 dot product of what it reads
// (bf16 rows; bf16 or fp32 probes, Bf16KernelRoundsProbes): each score
// within the accumulation part of the index's bound, gamma_{n'+1} (with
// 2u for u) times sum |p_i g_i|, on shapes that are multiples of no tile
// (1, 7, 33, 513 rows; dimensions 1 to 4096; 1 to 40 probes, below and
// above kBf16FewProbes); padding probes score 0. The rows
// and the scores lie flush against a page that may not be touched, so a
// kernel that reads past the last row or writes past the last score
// faults (AMX tile loads are not seen by AddressSanitizer).
#include "server/index/bf16_kernel.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace candor::index {
namespace {

// `count` elements of T ending where an inaccessible page begins.
template <typename T>
class GuardedArray {
 public:
  explicit GuardedArray(size_t count) : count_(count) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t bytes = count * sizeof(T);
    span_ = (bytes + page - 1) / page * page + page;
    base_ = static_cast<char*>(mmap(nullptr, span_, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (base_ == MAP_FAILED) std::abort();
    if (mprotect(base_ + span_ - page, page, PROT_NONE) != 0) std::abort();
    data_ = reinterpret_cast<T*>(base_ + span_ - page - bytes);
  }
  ~GuardedArray() { munmap(base_, span_); }
  GuardedArray(const GuardedArray&) = delete;
  GuardedArray& operator=(const GuardedArray&) = delete;
  T* data() { return data_; }
  T& operator[](size_t i) { return data_[i]; }

 private:
  size_t count_;
  size_t span_ = 0;
  char* base_ = nullptr;
  T* data_ = nullptr;
};

class Bf16KernelTest : public ::testing::TestWithParam<Bf16Kernel> {};

TEST_P(Bf16KernelTest, ScoresMatchTheFloat64DotProductOfWhatItReads) {
  const Bf16Kernel kernel = GetParam();
  if (!Bf16KernelSupported(kernel)) {
    GTEST_SKIP() << Bf16KernelName(kernel) << " is not supported here";
  }
  const double u2 = std::ldexp(1.0, -23);  // twice fp32's unit roundoff
  std::mt19937 rng(17);
  std::normal_distribution<float> normal;
  for (int dim : {1, 2, 3, 31, 33, 64, 129, 4096}) {
    const int dp = Bf16PaddedDim(dim);
    const double gamma = (dp + 1) * u2 / (1 - (dp + 1) * u2);
    for (int64_t rows : {1, 7, 33, 513}) {
      for (int count : {1, 7, 16, 17, 40}) {
        SCOPED_TRACE(::testing::Message()
                     << Bf16KernelName(kernel) << " dim " << dim << " rows "
                     << rows << " probes " << count);
        GuardedArray<uint16_t> gallery(size_t(rows) * dp);
        for (int64_t r = 0; r < rows; ++r) {
          for (int c = 0; c < dp; ++c) {
            gallery[r * dp + c] = c < dim ? FloatToBf16(normal(rng)) : 0;
          }
        }
        std::vector<float> probes(size_t(count) * dim);
        for (float& x : probes) x = normal(rng);
        PackedProbes packed;
        PackProbes(kernel, probes.data(), count, dim, &packed);
        ASSERT_EQ(packed.padded_count % 16, 0);
        ASSERT_GE(packed.padded_count, count);
        GuardedArray<float> scores(size_t(rows) * packed.padded_count);
        ScoreBf16Rows(gallery.data(), rows, packed, scores.data());
        int bad = 0;
        for (int64_t r = 0; r < rows; ++r) {
          for (int j = 0; j < count; ++j) {
            double exact = 0, magnitude = 0;
            for (int c = 0; c < dim; ++c) {
              const float pf = probes[size_t(j) * dim + c];
              const double p = Bf16KernelRoundsProbes(kernel)
                                   ? Bf16ToFloat(FloatToBf16(pf))
                                   : pf;
              const double g = Bf16ToFloat(gallery[r * dp + c]);
              exact += p * g;
              magnitude += std::abs(p * g);
            }
            const double got = scores[r * packed.padded_count + j];
            if (std::abs(got - exact) > gamma * magnitude && ++bad <= 3) {
              ADD_FAILURE()
                  << "row " << r << " probe " << j << ": " << got << " vs "
                  << exact << " (allowed " << gamma * magnitude << ")";
            }
          }
        }
        EXPECT_EQ(bad, 0);
        // Padding probes score 0 (the index reads whole blocks of 16).
        for (int64_t r = 0; r < rows; ++r) {
          for (int j = count; j < packed.padded_count; ++j) {
            ASSERT_EQ(scores[r * packed.padded_count + j], 0.0f)
                << "row " << r << " padding probe " << j;
          }
        }
      }
    }
  }
}

// The kernels read the probes exactly as packed: an all-zero probe scores
// 0 and a probe equal to a row's unit vector picks out that component.
TEST_P(Bf16KernelTest, ScoresPickOutComponents) {
  const Bf16Kernel kernel = GetParam();
  if (!Bf16KernelSupported(kernel)) {
    GTEST_SKIP() << Bf16KernelName(kernel) << " is not supported here";
  }
  const int dim = 67, dp = Bf16PaddedDim(dim);
  const int rows = 40;
  std::vector<uint16_t> gallery(size_t(rows) * dp, 0);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < dim; ++c) {
      gallery[size_t(r) * dp + c] = FloatToBf16(float(r * 100 + c));
    }
  }
  const int count = 19;
  std::vector<float> probes(size_t(count) * dim, 0.0f);
  for (int j = 1; j < count; ++j) probes[size_t(j) * dim + (j * 7) % dim] = 1;
  PackedProbes packed;
  PackProbes(kernel, probes.data(), count, dim, &packed);
  std::vector<float> scores(size_t(rows) * packed.padded_count);
  ScoreBf16Rows(gallery.data(), rows, packed, scores.data());
  for (int r = 0; r < rows; ++r) {
    EXPECT_EQ(scores[size_t(r) * packed.padded_count], 0.0f) << "row " << r;
    for (int j = 1; j < count; ++j) {
      EXPECT_EQ(scores[size_t(r) * packed.padded_count + j],
                Bf16ToFloat(gallery[size_t(r) * dp + (j * 7) % dim]))
          << "row " << r << " probe " << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllPaths, Bf16KernelTest,
                         ::testing::Values(Bf16Kernel::kScalar,
                                           Bf16Kernel::kAvx2,
                                           Bf16Kernel::kAvx512Bf16,
                                           Bf16Kernel::kAmxBf16),
                         [](const ::testing::TestParamInfo<Bf16Kernel>& info) {
                           return std::string(Bf16KernelName(info.param));
                         });

}  // namespace
}  // namespace candor::index
