// Random embedding rows for tests, in one place so that every folder's
// tests draw their vectors the same way.
#ifndef CANDOR_TESTS_LIB_RANDOM_ROWS_H_
#define CANDOR_TESTS_LIB_RANDOM_ROWS_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <type_traits>
#include <vector>

namespace candor::testing {

// rows x dim floats, row-major: each row a standard normal draw scaled to
// unit L2 norm (a direction uniform on the sphere), from `rng`, which
// advances (so successive calls give fresh rows).
template <typename Rng,
          typename = std::enable_if_t<!std::is_integral_v<Rng>>>
std::vector<float> RandomUnitRows(int64_t rows, int dim, Rng& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> out(static_cast<size_t>(rows) * dim);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = out.data() + static_cast<size_t>(r) * dim;
    double norm = 0;
    for (int c = 0; c < dim; ++c) {
      row[c] = normal(rng);
      norm += double{row[c]} * row[c];
    }
    const double inv = 1.0 / std::sqrt(norm);
    for (int c = 0; c < dim; ++c) row[c] = static_cast<float>(row[c] * inv);
  }
  return out;
}

// The same from a fresh std::mt19937(seed).
inline std::vector<float> RandomUnitRows(int64_t rows, int dim,
                                         uint32_t seed) {
  std::mt19937 rng(seed);
  return RandomUnitRows(rows, dim, rng);
}

// rows x dim values from N(0, 2^2), not normalized (for tests of the
// server, which normalizes), from std::mt19937_64(seed).
inline std::vector<float> RandomRows(int64_t rows, int dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> out(static_cast<size_t>(rows) * dim);
  for (float& x : out) x = normal(rng);
  return out;
}

}  // namespace candor::testing

#endif  // CANDOR_TESTS_LIB_RANDOM_ROWS_H_
