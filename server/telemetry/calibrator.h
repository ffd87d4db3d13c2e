// Calibrate, one algorithm for every role: a labeled set or a self-audit is
// searched through a callback the role provides (a server searches its own
// gallery through its SearchRunner; a router scatters to its shards and
// merges), and sampled through another (self-audit), much as one search
// algorithm runs over many index backends. Label checks, chunking, the
// caller's deadline and cancellation, the observations, the calibration
// and its store, and the report are all here, so both roles answer alike.
#ifndef CANDOR_SERVER_TELEMETRY_CALIBRATOR_H_
#define CANDOR_SERVER_TELEMETRY_CALIBRATOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "candor/v1/candor.pb.h"
#include "server/common/types.h"
#include "server/telemetry/calibration.h"
#include "server/telemetry/policy.h"

namespace candor::telemetry {

class CalibrationStore;
class PolicyUnit;

// Asked between chunks of searches: OK to go on, or the status the
// calibration stops with (the caller's deadline passed: DEADLINE_EXCEEDED;
// it cancelled: CANCELLED). Null `cancelled` = never cancelled.
struct CallLimits {
  absl::Time deadline = absl::InfiniteFuture();
  std::function<bool()> cancelled;
  // The status to stop with, or OK.
  absl::Status Check() const;
};

// Most probes per calibration chunk: small enough that a passed deadline or
// a cancellation is noticed within one search of a few hundred probes.
inline constexpr int kCalibrationChunk = 256;
// The calibration depth when the request leaves top_k at 0.
inline constexpr int kDefaultCalibrationTopK = 10;

// The gallery as calibrated, read before any search.
struct CalibratedGallery {
  std::string name;
  int dimension = 0;
  // Live entries over the whole gallery (all shards for a router).
  uint64_t size = 0;
  uint64_t version = 0;
};

// One probe of a calibration search: at no threshold (every candidate
// counts), at most top_k candidates.
struct CalibrationQuery {
  int top_k = 1;
};

// Searches `queries.size()` probes, `probes` holding them row-major
// (dimension floats each, as ProbeReader returned them or as sampled).
// Returns one candidate list per probe, best first (score, then entry id),
// as a Search of the whole gallery would. `deadline` bounds this chunk.
// Called from the calibrating thread, which waits for it.
using CalibrationSearch =
    std::function<absl::StatusOr<std::vector<std::vector<Candidate>>>(
        std::vector<float> probes, std::vector<CalibrationQuery> queries,
        absl::Time deadline)>;

// One entry drawn by a self-audit.
struct SampledEntry {
  EntryId entry_id = 0;
  std::string subject_id;
  std::string group;
  // Its stored vector (dimension floats, L2-normalized).
  std::vector<float> vector;
  // Live entries of its subject in the whole gallery, itself included
  // (>= 1): the search steps over them for the non-mated score.
  int subject_entries = 1;
};

// Draws min(sample_size, gallery size) live entries, reproducibly for one
// `seed` and one gallery state. A server: entries ordered by entry id,
// shuffled by std::mt19937_64(seed) with std::shuffle, the first sample_size
// kept. A router: each shard's share in proportion to its size, drawn on the
// shard the same way with a seed derived per shard (router_sample.h): as
// many entries and as uniform, but not the single server's entries for the
// same seed (a whole-gallery self-audit matches it exactly).
using CalibrationSample = std::function<absl::StatusOr<std::vector<SampledEntry>>(
    uint32_t sample_size, uint64_t seed, absl::Time deadline)>;

// Reads a labeled set's matrix as rows of the gallery's dimension, ready to
// search (the role's checks and messages; a server normalizes here).
// `field` names the matrix in errors ("labeled.nonmated"). Never called for
// an empty matrix.
using ProbeReader = std::function<absl::StatusOr<std::vector<float>>(
    const v1::Matrix& matrix, const std::string& field)>;

// What a role gives one Calibrate call.
struct CalibrationBackend {
  CalibratedGallery gallery;
  ProbeReader read_probes;
  CalibrationSearch search;
  // Null: self-audit is refused with `no_sample_status`.
  CalibrationSample sample;
  absl::Status no_sample_status;
  // Most probes per search call (min with kCalibrationChunk).
  int max_batch = kCalibrationChunk;
  // Highest top_k a request may ask (--max_top_k).
  int max_top_k = 0;
};

// What a calibration's searches observed.
struct Observations {
  std::vector<NonMatedObservation> nonmated;
  std::vector<MatedObservation> mated;
};

class Calibrator {
 public:
  // Neither pointer is owned; both outlive the calibrator.
  Calibrator(CalibrationStore* store, PolicyUnit* policy)
      : store_(store), policy_(policy) {}

  // Calibrate RPC: checks the request, searches the set (labeled or
  // self-audit) through `backend`, builds and stores the calibration (a
  // failed save fails the call) and reports it under the gallery's
  // effective policy (`override_policy` merged with the floor). Stops
  // between chunks of searches, storing nothing, with DEADLINE_EXCEEDED or
  // CANCELLED when `limits` says the caller is gone.
  absl::StatusOr<v1::CalibrationReport> Calibrate(
      const CalibrationBackend& backend, const v1::CalibrateRequest& request,
      const CallLimits& limits, const Policy& override_policy);

  // An operator-supplied set: non-mated probes' top-1 scores, and mated
  // probes' mate score and rank (the rank of the mate subject's best entry
  // among the top_k candidates).
  static absl::StatusOr<Observations> SearchLabeledSet(
      const CalibrationBackend& backend, const v1::LabeledSet& set, int top_k,
      const CallLimits& limits);
  // A self-audit: sample_size entries drawn with `seed`; each is searched
  // for the best entry of another subject (non-mated) and, when its subject
  // has other entries, for the best of them (mated, rank counted without
  // the entry itself).
  static absl::StatusOr<Observations> SearchSelfAudit(
      const CalibrationBackend& backend, const v1::SelfAudit& audit, int top_k,
      const CallLimits& limits);

 private:
  CalibrationStore* const store_;
  PolicyUnit* const policy_;
};

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_CALIBRATOR_H_
