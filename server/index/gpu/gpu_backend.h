// Entry points of the GPU index backends, as the index factory sees them.
// Plain C++: no CUDA types, so the factory compiles with any C++ compiler.
// Implemented only when candor is built with CANDOR_CUDA (the factory checks
// CANDOR_HAVE_CUDA / CANDOR_HAVE_FAISS_GPU before calling).
#ifndef CANDOR_SERVER_INDEX_GPU_GPU_BACKEND_H_
#define CANDOR_SERVER_INDEX_GPU_GPU_BACKEND_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/index/index.h"
#include "server/index/index_factory.h"

namespace candor::index::gpu {

// CUDA devices visible to this process; 0 when there is none or no driver.
// Never aborts and never throws.
int DeviceCount();
// Name of device 0 ("NVIDIA H100 80GB HBM3"), or "" without one.
std::string DeviceName();

// candor's own fused flat search (cuBLAS scores + threshold/top-k selection).
absl::StatusOr<std::unique_ptr<Index>> CreateGpuFlatIndex(
    const IndexConfig& config);

// FAISS GpuIndexFlatIP (only with CANDOR_FAISS_GPU).
absl::StatusOr<std::unique_ptr<Index>> CreateFaissGpuIndex(
    const IndexConfig& config);

}  // namespace candor::index::gpu

#endif  // CANDOR_SERVER_INDEX_GPU_GPU_BACKEND_H_
