// The searches behind a calibration, run through the same SearchRunner as
// Search (so through the batcher and the gallery's index), in large batches.
#ifndef CANDOR_SERVER_API_CALIBRATION_SEARCH_H_
#define CANDOR_SERVER_API_CALIBRATION_SEARCH_H_

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "candor/v1/candor.pb.h"
#include "server/api/search_runner.h"
#include "server/gallery/gallery.h"
#include "server/telemetry/calibration.h"

namespace candor::api {

// Asked between chunks of searches: OK to go on, or the status the
// calibration stops with (the caller's deadline passed: DEADLINE_EXCEEDED;
// it cancelled: CANCELLED). Null = never stop.
struct CallLimits {
  absl::Time deadline = absl::InfiniteFuture();
  std::function<bool()> cancelled;
  // The status to stop with, or OK.
  absl::Status Check() const;
};

struct Observations {
  std::vector<telemetry::NonMatedObservation> nonmated;
  std::vector<telemetry::MatedObservation> mated;
};

// An operator-supplied set: non-mated probes' top-1 scores, and mated
// probes' mate score and rank (the rank of the mate subject's best entry
// among the top_k candidates). Probes are searched in chunks of at most
// `max_batch` (and kCalibrationChunk); `limits` is checked before each.
absl::StatusOr<Observations> SearchLabeledSet(
    std::shared_ptr<gallery::Gallery> gallery, SearchRunner* runner,
    const v1::LabeledSet& set, int top_k, int max_batch,
    const CallLimits& limits);

// A self-audit: sample_size entries drawn with `seed`; each is searched
// with its own subject's entries excluded (non-mated) and, when its subject
// has other entries, for the best of them (mated, rank counted without the
// entry itself).
absl::StatusOr<Observations> SearchSelfAudit(
    std::shared_ptr<gallery::Gallery> gallery, SearchRunner* runner,
    const v1::SelfAudit& audit, int top_k, int max_batch,
    const CallLimits& limits);

// Most probes per calibration chunk: small enough that a passed deadline or
// a cancellation is noticed within one index call of a few hundred probes.
inline constexpr int kCalibrationChunk = 256;

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_CALIBRATION_SEARCH_H_
