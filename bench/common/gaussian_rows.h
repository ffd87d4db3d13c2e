// Synthetic rows for the benchmarks: Gaussian values, each row scaled to
// unit length when asked. The engine is the caller's, so each benchmark
// keeps its own seeds and sequences.
#ifndef CANDOR_BENCH_COMMON_GAUSSIAN_ROWS_H_
#define CANDOR_BENCH_COMMON_GAUSSIAN_ROWS_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace candor::bench {

template <typename Engine>
std::vector<float> GaussianRowsFrom(int64_t rows, int64_t dim, Engine& rng,
                                    bool normalize) {
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

#endif  // CANDOR_BENCH_COMMON_GAUSSIAN_ROWS_H_
