// The plain GPU search a user would write, as the benchmark's baseline:
// cublasGemmEx writes the full fp32 probes x gallery score matrix to HBM,
// then a top-k selection reads it back (candor's split selection kernel over
// each whole row, so that only the fusion differs from candor's search). Probes
// are processed in chunks so that the score matrix stays within a fixed budget
// of device memory.
#ifndef CANDOR_BENCH_GPU_BASELINE_SEARCH_H_
#define CANDOR_BENCH_GPU_BASELINE_SEARCH_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

namespace candor::bench {

class BaselineSearch {
 public:
  // gallery: rows x dim fp16 (binary16 bits), device memory, owned by the
  // caller and alive as long as this object. score_budget_bytes bounds the
  // HBM score matrix (probes per chunk = budget / (4 * rows), at least 1).
  static absl::StatusOr<std::unique_ptr<BaselineSearch>> Create(
      const uint16_t* gallery, int64_t rows, int dim,
      int64_t score_budget_bytes);
  ~BaselineSearch();

  // Searches `num_probes` fp32 probes (host memory) for the top k with the
  // given threshold; returns the GPU seconds (CUDA events from probe upload
  // to result download). Results stay on the device.
  absl::StatusOr<double> Run(const float* probes, int64_t num_probes, int k,
                             float threshold);

 private:
  struct State;
  explicit BaselineSearch(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace candor::bench

#endif  // CANDOR_BENCH_GPU_BASELINE_SEARCH_H_
