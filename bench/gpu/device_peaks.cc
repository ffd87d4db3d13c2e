// The table of nominal peaks (device_peaks.h). Sources: NVIDIA's data sheets
// (dense tensor-core figures, without sparsity).
#include "bench/gpu/device_peaks.h"

#include <array>

namespace candor::bench {
namespace {

struct Entry {
  std::string_view key;  // matched as a substring of the device name
  std::string_view model;
  double hbm_bytes_per_second;
  double fp16_flop_per_second;
};

// Most specific keys first. The runtime names an H100 SXM "NVIDIA H100 80GB
// HBM3", a PCIe card "NVIDIA H100 PCIe", an NVL card "NVIDIA H100 NVL".
// "GH200" contains "H200": it comes first.
constexpr std::array<Entry, 8> kTable{{
    {"GH200", "GH200", 4.0e12, 989e12},
    {"H200", "H200", 4.8e12, 989e12},
    {"H100 NVL", "H100 NVL", 3.9e12, 835e12},
    {"H100 PCIe", "H100 PCIe", 2.0e12, 756e12},
    {"H100", "H100 SXM", 3.35e12, 989e12},
    {"H800", "H800 SXM", 3.35e12, 989e12},
    {"A100-SXM4-80GB", "A100 SXM 80GB", 2.039e12, 312e12},
    {"A100", "A100", 1.555e12, 312e12},
}};

}  // namespace

std::optional<DevicePeaks> PeaksForDevice(std::string_view device_name) {
  for (const Entry& e : kTable) {
    if (device_name.find(e.key) != std::string_view::npos) {
      return DevicePeaks{std::string(e.model), e.hbm_bytes_per_second,
                         e.fp16_flop_per_second};
    }
  }
  return std::nullopt;
}

}  // namespace candor::bench
