// Synthetic inputs shared by the micro-benchmarks, from fixed seeds so that
// runs compare like with like.
#ifndef CANDOR_BENCH_MICRO_BENCH_DATA_H_
#define CANDOR_BENCH_MICRO_BENCH_DATA_H_

#include <cstdint>
#include <random>
#include <vector>

#include "bench/common/gaussian_rows.h"

namespace candor::bench {

// rows x dim floats, Gaussian; unit rows when `normalize`.
inline std::vector<float> GaussianRows(int64_t rows, int64_t dim, uint32_t seed,
                                       bool normalize) {
  std::mt19937 rng(seed);
  return GaussianRowsFrom(rows, dim, rng, normalize);
}

}  // namespace candor::bench

#endif  // CANDOR_BENCH_MICRO_BENCH_DATA_H_
