// RAII owners for CUDA resources: device buffers, pinned host buffers,
// streams and events, for candor's CUDA targets. Creation returns a
// Status instead of aborting; destruction ignores errors (a destructor cannot
// report one, and after a sticky device error freeing fails harmlessly).
#ifndef CANDOR_KERNELS_CUDA_RAII_H_
#define CANDOR_KERNELS_CUDA_RAII_H_

#include <cuda_runtime_api.h>

#include <cstddef>
#include <utility>

#include "absl/status/statusor.h"
#include "kernels/cuda_check.h"

namespace candor::kernels {

// `count` elements of T in device memory (cudaMalloc). Move-only.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  static absl::StatusOr<DeviceBuffer> Allocate(size_t count) {
    DeviceBuffer buffer;
    if (count == 0) return buffer;
    void* ptr = nullptr;
    CUDA_RETURN_IF_ERROR(cudaMalloc(&ptr, count * sizeof(T)));
    buffer.data_ = static_cast<T*>(ptr);
    buffer.size_ = count;
    return buffer;
  }
  DeviceBuffer(DeviceBuffer&& other) noexcept { *this = std::move(other); }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      Reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { Reset(); }

  T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t bytes() const { return size_ * sizeof(T); }
  void Reset() {
    if (data_ != nullptr) cudaFree(data_);
    data_ = nullptr;
    size_ = 0;
  }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

// `count` elements of T in page-locked host memory (cudaMallocHost), so that
// cudaMemcpyAsync really is asynchronous and runs at full PCIe speed.
template <typename T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  static absl::StatusOr<PinnedBuffer> Allocate(size_t count) {
    PinnedBuffer buffer;
    if (count == 0) return buffer;
    void* ptr = nullptr;
    CUDA_RETURN_IF_ERROR(cudaMallocHost(&ptr, count * sizeof(T)));
    buffer.data_ = static_cast<T*>(ptr);
    buffer.size_ = count;
    return buffer;
  }
  PinnedBuffer(PinnedBuffer&& other) noexcept { *this = std::move(other); }
  PinnedBuffer& operator=(PinnedBuffer&& other) noexcept {
    if (this != &other) {
      Reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer() { Reset(); }

  T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t bytes() const { return size_ * sizeof(T); }
  void Reset() {
    if (data_ != nullptr) cudaFreeHost(data_);
    data_ = nullptr;
    size_ = 0;
  }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

// A non-blocking stream (no implicit sync with the legacy default stream).
class CudaStream {
 public:
  CudaStream() = default;
  static absl::StatusOr<CudaStream> Create() {
    CudaStream stream;
    CUDA_RETURN_IF_ERROR(
        cudaStreamCreateWithFlags(&stream.stream_, cudaStreamNonBlocking));
    return stream;
  }
  CudaStream(CudaStream&& other) noexcept { *this = std::move(other); }
  CudaStream& operator=(CudaStream&& other) noexcept {
    if (this != &other) {
      Reset();
      stream_ = std::exchange(other.stream_, nullptr);
    }
    return *this;
  }
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  ~CudaStream() { Reset(); }

  cudaStream_t get() const { return stream_; }
  void Reset() {
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
    stream_ = nullptr;
  }

 private:
  cudaStream_t stream_ = nullptr;
};

// An event; `timing` false (the default for ordering) makes record and wait
// cheaper, true is for GPU-time measurements.
class CudaEvent {
 public:
  CudaEvent() = default;
  static absl::StatusOr<CudaEvent> Create(bool timing = false) {
    CudaEvent event;
    CUDA_RETURN_IF_ERROR(cudaEventCreateWithFlags(
        &event.event_, timing ? cudaEventDefault : cudaEventDisableTiming));
    return event;
  }
  CudaEvent(CudaEvent&& other) noexcept { *this = std::move(other); }
  CudaEvent& operator=(CudaEvent&& other) noexcept {
    if (this != &other) {
      Reset();
      event_ = std::exchange(other.event_, nullptr);
    }
    return *this;
  }
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  ~CudaEvent() { Reset(); }

  cudaEvent_t get() const { return event_; }
  void Reset() {
    if (event_ != nullptr) cudaEventDestroy(event_);
    event_ = nullptr;
  }

 private:
  cudaEvent_t event_ = nullptr;
};

}  // namespace candor::kernels

#endif  // CANDOR_KERNELS_CUDA_RAII_H_
