#include "server/api/calibration_search.h"

#include <algorithm>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "kernels/normalize.h"
#include "server/edge/validation.h"

namespace candor::api {
namespace {

// One chunk through the runner, waited for (the calibrator's thread is a
// maintenance thread, never a gRPC one).
absl::StatusOr<std::vector<std::vector<Candidate>>> Search(
    const std::shared_ptr<gallery::Gallery>& gallery, SearchRunner* runner,
    std::vector<float> probes, std::vector<telemetry::CalibrationQuery> queries,
    absl::Time deadline) {
  std::vector<ProbeQuery> run(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    run[i] = ProbeQuery{-1.0f, queries[i].top_k, 0};
  }
  absl::Notification done;
  absl::StatusOr<SearchOutcome> outcome;
  runner->Run(gallery, std::move(probes), std::move(run), deadline,
              [&](absl::StatusOr<SearchOutcome> result) {
                outcome = std::move(result);
                done.Notify();
              });
  done.WaitForNotification();
  if (!outcome.ok()) return outcome.status();
  return std::move(outcome->candidates);
}

// The live entries in id order, shuffled with the seed, the first
// sample_size kept. (The shuffle's algorithm is the standard library's, so
// one build reproduces a seed.)
absl::StatusOr<std::vector<telemetry::SampledEntry>> Sample(
    const gallery::Gallery& gallery, uint32_t sample_size, uint64_t seed) {
  std::vector<gallery::EntryMeta> entries = gallery.Entries();
  std::map<std::string, int> per_subject;
  for (const auto& e : entries) ++per_subject[e.subject_id];
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  std::mt19937_64 rng(seed);
  std::shuffle(entries.begin(), entries.end(), rng);
  entries.resize(std::min<size_t>(entries.size(), sample_size));
  std::vector<telemetry::SampledEntry> out(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    telemetry::SampledEntry& s = out[i];
    s.entry_id = entries[i].id;
    s.subject_id = entries[i].subject_id;
    s.group = entries[i].group;
    s.subject_entries = per_subject[entries[i].subject_id];
    s.vector.resize(static_cast<size_t>(gallery.dimension()));
    absl::Status got = gallery.GetVector(entries[i].id, s.vector.data());
    if (!got.ok()) return got;
  }
  return out;
}

}  // namespace

telemetry::CalibrationBackend ServerCalibrationBackend(
    std::shared_ptr<gallery::Gallery> gallery, SearchRunner* runner,
    const LimitOptions& limits) {
  const gallery::GalleryInfo info = gallery->Info();
  telemetry::CalibrationBackend backend;
  backend.gallery = {gallery->name(), gallery->dimension(), info.size,
                     info.version};
  backend.max_batch = limits.max_batch;
  backend.max_top_k = limits.max_top_k;
  const int dim = gallery->dimension();
  backend.read_probes = [dim](const v1::Matrix& matrix,
                              const std::string& field)
      -> absl::StatusOr<std::vector<float>> {
    auto rows = UnpackRows(matrix, dim, static_cast<int>(matrix.rows()), field);
    if (!rows.ok()) return rows.status();
    absl::Status s = kernels::L2NormalizeRowsInPlace(
        rows->data(), static_cast<int>(matrix.rows()), dim, field);
    if (!s.ok()) return s;
    return rows;
  };
  backend.search = [gallery, runner](
                       std::vector<float> probes,
                       std::vector<telemetry::CalibrationQuery> queries,
                       absl::Time deadline) {
    return Search(gallery, runner, std::move(probes), std::move(queries),
                  deadline);
  };
  backend.sample = [gallery](uint32_t sample_size, uint64_t seed, absl::Time) {
    return Sample(*gallery, sample_size, seed);
  };
  return backend;
}

}  // namespace candor::api
