// BaselineSearch (baseline_search.h).
#include "bench/gpu/baseline_search.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "kernels/cublas_check.h"
#include "kernels/cuda_check.h"
#include "kernels/cuda_raii.h"
#include "kernels/half_convert_device.h"
#include "kernels/select_topk_device.h"
#include "kernels/tile_sizing.h"

namespace candor::bench {

using kernels::CudaEvent;
using kernels::CudaStream;
using kernels::DeviceBuffer;

struct BaselineSearch::State {
  const uint16_t* gallery = nullptr;
  int64_t rows = 0;
  int dim = 0;
  int64_t chunk_probes = 1;
  int64_t target_blocks = 0;  // 4 per SM, as the GPU index aims for
  cublasHandle_t cublas = nullptr;
  CudaStream stream;
  CudaEvent start, end;
  DeviceBuffer<uint64_t> ids;  // 0 .. rows-1
  DeviceBuffer<float> probes32, thresholds, scores, list_scores;
  DeviceBuffer<uint16_t> probes16;
  DeviceBuffer<uint64_t> list_ids;
  DeviceBuffer<int32_t> list_counts;
  DeviceBuffer<float> partial_scores;
  DeviceBuffer<uint64_t> partial_ids;
  DeviceBuffer<int32_t> partial_counts;
  ~State() {
    if (cublas != nullptr) cublasDestroy(cublas);
  }
};

BaselineSearch::BaselineSearch(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
BaselineSearch::~BaselineSearch() = default;

absl::StatusOr<std::unique_ptr<BaselineSearch>> BaselineSearch::Create(
    const uint16_t* gallery, int64_t rows, int dim,
    int64_t score_budget_bytes) {
  auto s = std::make_unique<State>();
  s->gallery = gallery;
  s->rows = rows;
  s->dim = dim;
  s->chunk_probes = std::max<int64_t>(1, score_budget_bytes / (4 * rows));
  int sm_count = 0;
  CUDA_RETURN_IF_ERROR(
      cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, 0));
  s->target_blocks = 4 * int64_t{sm_count};
  CUBLAS_RETURN_IF_ERROR(cublasCreate(&s->cublas));
  auto stream = CudaStream::Create();
  if (!stream.ok()) return stream.status();
  s->stream = *std::move(stream);
  auto start = CudaEvent::Create(true);
  auto end = CudaEvent::Create(true);
  if (!start.ok()) return start.status();
  if (!end.ok()) return end.status();
  s->start = *std::move(start);
  s->end = *std::move(end);
  CUBLAS_RETURN_IF_ERROR(cublasSetStream(s->cublas, s->stream.get()));
  std::vector<uint64_t> ids(static_cast<size_t>(rows));
  std::iota(ids.begin(), ids.end(), uint64_t{0});
  auto d_ids = DeviceBuffer<uint64_t>::Allocate(ids.size());
  if (!d_ids.ok()) return d_ids.status();
  s->ids = *std::move(d_ids);
  CUDA_RETURN_IF_ERROR(cudaMemcpy(s->ids.data(), ids.data(),
                                  ids.size() * sizeof(uint64_t),
                                  cudaMemcpyHostToDevice));
  return std::unique_ptr<BaselineSearch>(new BaselineSearch(std::move(s)));
}

template <typename T>
static absl::Status Grow(DeviceBuffer<T>& b, size_t n) {
  if (b.size() >= n) return absl::OkStatus();
  b.Reset();
  auto grown = DeviceBuffer<T>::Allocate(n);
  if (!grown.ok()) return grown.status();
  b = *std::move(grown);
  return absl::OkStatus();
}

absl::StatusOr<double> BaselineSearch::Run(const float* probes,
                                           int64_t num_probes, int k,
                                           float threshold) {
  State& s = *state_;
  const size_t n = static_cast<size_t>(num_probes);
  const size_t probe_floats = n * s.dim;
  const int64_t chunk = std::min(s.chunk_probes, num_probes);
  // The same split selection as candor's index (so that batch 1 is not
  // bound by one block per probe): only the fusion differs.
  const int splits = kernels::SelectionSplits(
      chunk, s.rows, s.target_blocks, 4096,
      static_cast<int>(std::min<int64_t>(kernels::kMaxSelectSplits,
                                         std::max(1, 32768 / k))));
  const size_t partial_lists = static_cast<size_t>(chunk) * splits;
  for (absl::Status st :
       {Grow(s.probes32, probe_floats), Grow(s.probes16, probe_floats),
        Grow(s.thresholds, n),
        Grow(s.scores, static_cast<size_t>(chunk * s.rows)),
        Grow(s.list_scores, n * k), Grow(s.list_ids, n * k),
        Grow(s.list_counts, n), Grow(s.partial_scores, partial_lists * k),
        Grow(s.partial_ids, partial_lists * k),
        Grow(s.partial_counts, partial_lists)}) {
    if (!st.ok()) return st;
  }
  std::vector<float> thresholds(n, threshold);
  std::vector<float> host_scores(n * k);
  cudaStream_t stream = s.stream.get();
  CUDA_RETURN_IF_ERROR(cudaEventRecord(s.start.get(), stream));
  CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(s.probes32.data(), probes,
                                       probe_floats * sizeof(float),
                                       cudaMemcpyHostToDevice, stream));
  CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(s.thresholds.data(), thresholds.data(),
                                       n * sizeof(float),
                                       cudaMemcpyHostToDevice, stream));
  if (absl::Status st = kernels::FloatToHalfDevice(
          s.probes32.data(), static_cast<int64_t>(probe_floats),
          s.probes16.data(), stream);
      !st.ok()) {
    return st;
  }
  const float alpha = 1.0f, beta = 0.0f;
  for (int64_t first = 0; first < num_probes; first += chunk) {
    const int64_t count = std::min(chunk, num_probes - first);
    CUBLAS_RETURN_IF_ERROR(cublasGemmEx(
        s.cublas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(s.rows),
        static_cast<int>(count), s.dim, &alpha, s.gallery, CUDA_R_16F, s.dim,
        s.probes16.data() + first * s.dim, CUDA_R_16F, s.dim, &beta,
        s.scores.data(), CUDA_R_32F, static_cast<int>(s.rows),
        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    const kernels::DeviceTopKLists lists{s.list_scores.data() + first * k,
                                         s.list_ids.data() + first * k,
                                         s.list_counts.data() + first};
    const kernels::DeviceTopKLists partial{
        s.partial_scores.data(), s.partial_ids.data(), s.partial_counts.data()};
    if (absl::Status st = kernels::SelectTopKSplitDevice(
            s.scores.data(), count, s.rows, s.rows, s.ids.data(),
            s.thresholds.data() + first, k, splits, partial, false, lists,
            stream);
        !st.ok()) {
      return st;
    }
  }
  // Results come back as a user would need them (pageable copy: the
  // baseline does not bother with pinned buffers).
  CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(host_scores.data(), s.list_scores.data(),
                                       n * k * sizeof(float),
                                       cudaMemcpyDeviceToHost, stream));
  CUDA_RETURN_IF_ERROR(cudaEventRecord(s.end.get(), stream));
  CUDA_RETURN_IF_ERROR(cudaEventSynchronize(s.end.get()));
  float ms = 0.0f;
  CUDA_RETURN_IF_ERROR(cudaEventElapsedTime(&ms, s.start.get(), s.end.get()));
  return ms * 1e-3;
}

}  // namespace candor::bench
