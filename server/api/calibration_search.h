// The searches behind a calibration, run through the same SearchRunner as
// Search (so through the batcher and the gallery's index), in large batches.
#ifndef CANDOR_SERVER_API_CALIBRATION_SEARCH_H_
#define CANDOR_SERVER_API_CALIBRATION_SEARCH_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "candor/v1/candor.pb.h"
#include "server/api/search_runner.h"
#include "server/gallery/gallery.h"
#include "server/telemetry/calibration.h"

namespace candor::api {

struct Observations {
  std::vector<telemetry::NonMatedObservation> nonmated;
  std::vector<telemetry::MatedObservation> mated;
};

// An operator-supplied set: non-mated probes' top-1 scores, and mated
// probes' mate score and rank (the rank of the mate subject's best entry
// among the top_k candidates).
absl::StatusOr<Observations> SearchLabeledSet(
    std::shared_ptr<gallery::Gallery> gallery, SearchRunner* runner,
    const v1::LabeledSet& set, int top_k, int max_batch);

// A self-audit: sample_size entries drawn with `seed`; each is searched
// with its own subject's entries excluded (non-mated) and, when its subject
// has other entries, for the best of them (mated, rank counted without the
// entry itself).
absl::StatusOr<Observations> SearchSelfAudit(
    std::shared_ptr<gallery::Gallery> gallery, SearchRunner* runner,
    const v1::SelfAudit& audit, int top_k, int max_batch);

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_CALIBRATION_SEARCH_H_
