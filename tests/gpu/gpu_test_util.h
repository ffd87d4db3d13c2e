// Shared by the GPU tests: skip without a device, device <-> host copies.
#ifndef CANDOR_TESTS_GPU_GPU_TEST_UTIL_H_
#define CANDOR_TESTS_GPU_GPU_TEST_UTIL_H_

#include <cuda_runtime_api.h>

#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "kernels/cuda_raii.h"

namespace candor::testing {

// True when a CUDA device can be used; clears the error otherwise.
inline bool HaveCudaDevice() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return count > 0;
}

// Fixture base: every test skips, with the reason, where there is no device.
class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveCudaDevice()) {
      GTEST_SKIP() << "no CUDA device (cudaGetDeviceCount failed or found 0): "
                      "GPU tests run on a GPU machine via "
                      "tests/gpu/run_device_checks.sh";
    }
  }
};

template <typename T>
absl::StatusOr<kernels::DeviceBuffer<T>> ToDevice(
    const std::vector<T>& host) {
  auto buffer = kernels::DeviceBuffer<T>::Allocate(host.size());
  if (!buffer.ok()) return buffer.status();
  if (!host.empty()) {
    CUDA_RETURN_IF_ERROR(cudaMemcpy(buffer->data(), host.data(),
                                    host.size() * sizeof(T),
                                    cudaMemcpyHostToDevice));
  }
  return buffer;
}

template <typename T>
absl::StatusOr<std::vector<T>> ToHost(const T* device, size_t count) {
  std::vector<T> host(count);
  if (count > 0) {
    CUDA_RETURN_IF_ERROR(cudaMemcpy(host.data(), device, count * sizeof(T),
                                    cudaMemcpyDeviceToHost));
  }
  return host;
}

}  // namespace candor::testing

#endif  // CANDOR_TESTS_GPU_GPU_TEST_UTIL_H_
