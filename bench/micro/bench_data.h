// Synthetic inputs shared by the micro-benchmarks, from fixed seeds so that
// runs compare like with like.
#ifndef CANDOR_BENCH_MICRO_BENCH_DATA_H_
#define CANDOR_BENCH_MICRO_BENCH_DATA_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace candor::bench {

// rows x dim floats, Gaussian; unit rows when `normalize`.
inline std::vector<float> GaussianRows(int64_t rows, int64_t dim, uint32_t seed,
                                       bool normalize) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> out(rows * dim);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = out.data() + r * dim;
    double norm = 0;
    for (int64_t c = 0; c < dim; ++c) {
      row[c] = dist(rng);
      norm += double(row[c]) * row[c];
    }
    if (normalize) {
      const float inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (int64_t c = 0; c < dim; ++c) row[c] *= inv;
    }
  }
  return out;
}

}  // namespace candor::bench

#endif  // CANDOR_BENCH_MICRO_BENCH_DATA_H_
