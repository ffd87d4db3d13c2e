// The GPU entry points the index factory calls (gpu_backend.h).
#include "server/index/gpu/gpu_backend.h"

#include <cuda_runtime_api.h>

#include "absl/strings/str_cat.h"
#include "server/index/gpu/gpu_flat_index.h"

#if defined(CANDOR_HAVE_FAISS_GPU)
#include "server/index/gpu/faiss_gpu_index.h"
#endif

namespace candor::index::gpu {

int DeviceCount() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: clear and report none
    return 0;
  }
  return count;
}

std::string DeviceName() {
  if (DeviceCount() == 0) return "";
  cudaDeviceProp props;
  if (cudaGetDeviceProperties(&props, 0) != cudaSuccess) {
    cudaGetLastError();
    return "";
  }
  return props.name;
}

absl::StatusOr<std::unique_ptr<Index>> CreateGpuFlatIndex(
    const IndexConfig& config) {
  if (config.type != IndexType::kFlat) {
    return absl::InvalidArgumentError(
        "the GPU backend serves flat (exact) indexes only");
  }
  GpuFlatIndexOptions options;
  options.dimension = config.dimension;
  // fp16 unless fp32 is asked for: half the device memory at 512-d and the
  // tensor-core GEMM, within the fp16 score tolerance.
  options.fp16_storage = config.storage != Storage::kFp32;
  auto index = GpuFlatIndex::Create(options);
  if (!index.ok()) return index.status();
  return std::unique_ptr<Index>(*std::move(index));
}

absl::StatusOr<std::unique_ptr<Index>> CreateFaissGpuIndex(
    const IndexConfig& config) {
#if defined(CANDOR_HAVE_FAISS_GPU)
  if (config.type != IndexType::kFlat) {
    return absl::InvalidArgumentError(
        "the FAISS GPU backend serves flat (exact) indexes only");
  }
  FaissGpuIndexOptions options;
  options.dimension = config.dimension;
  options.fp16_storage = config.storage == Storage::kFp16;
  auto index = FaissGpuIndex::Create(options);
  if (!index.ok()) return index.status();
  return std::unique_ptr<Index>(*std::move(index));
#else
  return absl::UnimplementedError("candor was built without CANDOR_FAISS_GPU");
#endif
}

}  // namespace candor::index::gpu
