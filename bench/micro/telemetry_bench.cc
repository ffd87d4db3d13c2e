// The per-answer telemetry: FPIR looked up per group at the request's
// threshold, from a calibration of 100k non-mated and 20k mated searches
// over four groups, and the whole threshold report attached to a response.
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "server/telemetry/calibration.h"
#include "server/telemetry/report.h"

namespace candor::bench {
namespace {

constexpr int kNonMated = 100000;
constexpr int kMated = 20000;

// Null when the calibration cannot be built (the benchmarks then skip).
const telemetry::Calibration* BenchCalibration() {
  static const telemetry::Calibration* const calibration = [] {
    std::mt19937 rng(9);
    const std::vector<std::string> groups = {"a", "b", "c", "d"};
    std::normal_distribution<float> impostor(0.1f, 0.12f);
    std::normal_distribution<float> genuine(0.7f, 0.1f);
    auto clamp = [](float s) { return std::min(1.0f, std::max(-1.0f, s)); };
    std::vector<telemetry::NonMatedObservation> nonmated;
    for (int i = 0; i < kNonMated; ++i) {
      nonmated.push_back({groups[i % groups.size()], clamp(impostor(rng))});
    }
    std::vector<telemetry::MatedObservation> mated;
    for (int i = 0; i < kMated; ++i) {
      mated.push_back({groups[i % groups.size()], clamp(genuine(rng)), 0});
    }
    telemetry::CalibrationMeta meta;
    meta.gallery_size = 100000;
    meta.source = telemetry::kSourceLabeled;
    auto built = telemetry::Calibration::Build(meta, nonmated, mated);
    return built.ok() ? new telemetry::Calibration(*std::move(built)) : nullptr;
  }();
  return calibration;
}

// Items are (group, threshold) lookups.
void BM_FpirLookupPerGroup(benchmark::State& state) {
  const telemetry::Calibration* calibration = BenchCalibration();
  if (calibration == nullptr) {
    state.SkipWithError("calibration could not be built");
    return;
  }
  const auto& groups = calibration->groups();
  float threshold = 0.3f;
  for (auto _ : state) {
    for (const telemetry::GroupScores& group : groups) {
      benchmark::DoNotOptimize(telemetry::FpirAt(group, threshold));
    }
    // Walk thresholds so the searches do not hit one cached path.
    threshold = threshold > 0.6f ? 0.3f : threshold + 0.001f;
  }
  state.SetItemsProcessed(state.iterations() * groups.size());
}
BENCHMARK(BM_FpirLookupPerGroup);

// Items are reports.
void BM_ThresholdReport(benchmark::State& state) {
  const telemetry::Calibration* calibration = BenchCalibration();
  if (calibration == nullptr) {
    state.SkipWithError("calibration could not be built");
    return;
  }
  const telemetry::GalleryNow now{100000, 0};
  for (auto _ : state) {
    benchmark::DoNotOptimize(telemetry::MakeThresholdReport(
        calibration, now, 0.4f, telemetry::ThresholdSource::kRequest));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ThresholdReport);

}  // namespace
}  // namespace candor::bench
