// Nominal peaks of the GPUs candor is measured on, keyed by the device name
// the CUDA runtime reports (cudaDeviceProp::name), so that the benchmark's
// roofline figures use the device's own ceilings. Plain C++.
#ifndef CANDOR_BENCH_GPU_DEVICE_PEAKS_H_
#define CANDOR_BENCH_GPU_DEVICE_PEAKS_H_

#include <optional>
#include <string>
#include <string_view>

namespace candor::bench {

struct DevicePeaks {
  std::string model;                // the table's name for it, e.g. "H200"
  double hbm_bytes_per_second = 0;  // nominal memory bandwidth
  double fp16_flop_per_second = 0;  // dense fp16/bf16 tensor-core peak
};

// The entry whose key the device name contains (the most specific key
// first: "H100 NVL" before "H100"), or nullopt for a device not in the
// table; the benchmark then reports the measured bandwidth only.
std::optional<DevicePeaks> PeaksForDevice(std::string_view device_name);

}  // namespace candor::bench

#endif  // CANDOR_BENCH_GPU_DEVICE_PEAKS_H_
