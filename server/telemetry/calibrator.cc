#include "server/telemetry/calibrator.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/telemetry/calibration_store.h"
#include "server/telemetry/policy_unit.h"

namespace candor::telemetry {
namespace {

// Calibration searches are offline work: a generous deadline per chunk.
constexpr absl::Duration kChunkDeadline = absl::Minutes(10);

using CandidateLists = std::vector<std::vector<Candidate>>;

// Runs every probe through the backend's search, a chunk at a time; stops
// before a chunk when `limits` says so.
absl::StatusOr<CandidateLists> SearchAll(
    const CalibrationBackend& backend, const std::vector<float>& probes,
    const std::vector<CalibrationQuery>& queries, const CallLimits& limits) {
  const size_t dim = static_cast<size_t>(backend.gallery.dimension);
  const size_t chunk_rows = static_cast<size_t>(
      std::max(1, std::min(backend.max_batch, kCalibrationChunk)));
  CandidateLists all;
  all.reserve(queries.size());
  for (size_t first = 0; first < queries.size(); first += chunk_rows) {
    if (absl::Status stop = limits.Check(); !stop.ok()) {
      return absl::Status(
          stop.code(),
          absl::StrCat(stop.message(), " after ", first, " of ",
                       queries.size(), " calibration searches"));
    }
    const size_t n = std::min(queries.size() - first, chunk_rows);
    std::vector<float> chunk(probes.begin() + first * dim,
                             probes.begin() + (first + n) * dim);
    std::vector<CalibrationQuery> chunk_queries(queries.begin() + first,
                                                queries.begin() + first + n);
    auto hits = backend.search(
        std::move(chunk), std::move(chunk_queries),
        std::min(limits.deadline, absl::Now() + kChunkDeadline));
    if (!hits.ok()) return hits.status();
    if (hits->size() != n) {
      return absl::InternalError(absl::StrCat(
          "calibration search answered ", hits->size(), " probes of ", n));
    }
    for (auto& c : *hits) all.push_back(std::move(c));
  }
  return all;
}

absl::StatusOr<std::vector<std::string>> Labels(
    const google::protobuf::RepeatedPtrField<std::string>& labels, int rows,
    const std::string& field) {
  if (labels.empty()) return std::vector<std::string>(static_cast<size_t>(rows));
  if (labels.size() != rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", labels.size(), " labels for ", rows, " probes"));
  }
  return std::vector<std::string>(labels.begin(), labels.end());
}

absl::StatusOr<std::vector<float>> Probes(const CalibrationBackend& backend,
                                          const v1::Matrix& matrix,
                                          const std::string& field) {
  if (matrix.rows() == 0) return std::vector<float>();
  // The whole set is read at once; it is searched in chunks later.
  auto rows = backend.read_probes(matrix, field);
  if (!rows.ok()) return rows.status();
  if (rows->size() != static_cast<size_t>(matrix.rows()) *
                          static_cast<size_t>(backend.gallery.dimension)) {
    return absl::InternalError(absl::StrCat(field, ": read ", rows->size(),
                                            " values for ", matrix.rows(),
                                            " rows"));
  }
  return rows;
}

}  // namespace

absl::Status CallLimits::Check() const {
  if (absl::Now() >= deadline) {
    return absl::DeadlineExceededError(
        "the caller's deadline passed: calibration stopped");
  }
  if (cancelled && cancelled()) {
    return absl::CancelledError("the caller cancelled: calibration stopped");
  }
  return absl::OkStatus();
}

absl::StatusOr<Observations> Calibrator::SearchLabeledSet(
    const CalibrationBackend& backend, const v1::LabeledSet& set, int top_k,
    const CallLimits& limits) {
  const int n_non = static_cast<int>(set.nonmated().rows());
  const int n_mated = static_cast<int>(set.mated().rows());
  if (n_non + n_mated == 0) {
    return absl::InvalidArgumentError(
        "labeled: no probes (give non-mated and/or mated probes)");
  }
  auto nonmated = Probes(backend, set.nonmated(), "labeled.nonmated");
  if (!nonmated.ok()) return nonmated.status();
  auto mated = Probes(backend, set.mated(), "labeled.mated");
  if (!mated.ok()) return mated.status();
  auto non_groups =
      Labels(set.nonmated_groups(), n_non, "labeled.nonmated_groups");
  if (!non_groups.ok()) return non_groups.status();
  auto mated_groups =
      Labels(set.mated_groups(), n_mated, "labeled.mated_groups");
  if (!mated_groups.ok()) return mated_groups.status();
  if (set.mated_subject_ids_size() != n_mated) {
    return absl::InvalidArgumentError(absl::StrCat(
        "labeled.mated_subject_ids: ", set.mated_subject_ids_size(),
        " ids for ", n_mated, " mated probes (need one per row)"));
  }

  Observations obs;
  // Non-mated: only the best score matters.
  auto non_hits =
      SearchAll(backend, *nonmated,
                std::vector<CalibrationQuery>(n_non, CalibrationQuery{1}),
                limits);
  if (!non_hits.ok()) return non_hits.status();
  for (int i = 0; i < n_non; ++i) {
    const auto& c = (*non_hits)[i];
    obs.nonmated.push_back(
        {(*non_groups)[i], c.empty() ? kNoScore : c[0].score});
  }
  auto mated_hits =
      SearchAll(backend, *mated,
                std::vector<CalibrationQuery>(n_mated, CalibrationQuery{top_k}),
                limits);
  if (!mated_hits.ok()) return mated_hits.status();
  for (int i = 0; i < n_mated; ++i) {
    MatedObservation m;
    m.group = (*mated_groups)[i];
    const auto& c = (*mated_hits)[i];
    for (size_t r = 0; r < c.size() && r < static_cast<size_t>(top_k); ++r) {
      if (c[r].subject_id == set.mated_subject_ids(i)) {
        m.mate_rank = static_cast<int>(r);
        m.mate_score = c[r].score;
        break;
      }
    }
    obs.mated.push_back(m);
  }
  return obs;
}

absl::StatusOr<Observations> Calibrator::SearchSelfAudit(
    const CalibrationBackend& backend, const v1::SelfAudit& audit, int top_k,
    const CallLimits& limits) {
  if (backend.gallery.size < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "self-audit needs at least 2 entries; gallery '", backend.gallery.name,
        "' has ", backend.gallery.size));
  }
  if (audit.sample_size() == 0) {
    return absl::InvalidArgumentError("self_audit.sample_size: must be >= 1");
  }
  if (!backend.sample) return backend.no_sample_status;
  auto sample = backend.sample(audit.sample_size(), audit.seed(),
                               limits.deadline);
  if (!sample.ok()) return sample.status();

  const size_t dim = static_cast<size_t>(backend.gallery.dimension);
  std::vector<float> probes(sample->size() * dim);
  std::vector<CalibrationQuery> queries(sample->size());
  for (size_t i = 0; i < sample->size(); ++i) {
    const SampledEntry& e = (*sample)[i];
    if (e.vector.size() != dim) {
      return absl::InternalError(absl::StrCat(
          "sampled entry ", e.entry_id, " has ", e.vector.size(),
          " values, not ", dim));
    }
    std::copy(e.vector.begin(), e.vector.end(), probes.begin() + i * dim);
    // Deep enough to step over every entry of the probe's own subject (for
    // the non-mated score) and over the probe itself (for the mate's rank).
    queries[i] = CalibrationQuery{std::max(e.subject_entries + 1, top_k + 1)};
  }
  auto hits = SearchAll(backend, probes, queries, limits);
  if (!hits.ok()) return hits.status();

  Observations obs;
  for (size_t i = 0; i < sample->size(); ++i) {
    const SampledEntry& e = (*sample)[i];
    float nonmated_top1 = kNoScore;
    MatedObservation mated;
    mated.group = e.group;
    int rank = 0;  // among candidates other than the probe entry itself
    for (const Candidate& c : (*hits)[i]) {
      if (c.entry_id == e.entry_id) continue;
      if (c.subject_id != e.subject_id) {
        if (nonmated_top1 == kNoScore) nonmated_top1 = c.score;
      } else if (mated.mate_rank < 0 && rank < top_k) {
        mated.mate_rank = rank;
        mated.mate_score = c.score;
      }
      ++rank;
    }
    obs.nonmated.push_back({e.group, nonmated_top1});
    if (e.subject_entries >= 2) obs.mated.push_back(mated);
  }
  return obs;
}

absl::StatusOr<v1::CalibrationReport> Calibrator::Calibrate(
    const CalibrationBackend& backend, const v1::CalibrateRequest& request,
    const CallLimits& limits, const Policy& override_policy) {
  const int top_k = request.top_k() == 0 ? kDefaultCalibrationTopK
                                         : static_cast<int>(request.top_k());
  if (top_k > backend.max_top_k) {
    return absl::InvalidArgumentError(absl::StrCat(
        "top_k: ", top_k, " is outside 1..", backend.max_top_k));
  }
  const CalibratedGallery& gallery = backend.gallery;
  absl::StatusOr<Observations> obs;
  CalibrationMeta meta;
  switch (request.source_case()) {
    case v1::CalibrateRequest::kLabeled:
      meta.source = kSourceLabeled;
      obs = SearchLabeledSet(backend, request.labeled(), top_k, limits);
      break;
    case v1::CalibrateRequest::kSelfAudit:
      meta.source = kSourceSelfAudit;
      obs = SearchSelfAudit(backend, request.self_audit(), top_k, limits);
      break;
    default:
      return absl::InvalidArgumentError(
          "source: give a labeled set or self_audit");
  }
  if (!obs.ok()) return obs.status();
  // A caller gone during the last chunk gets no calibration stored in its
  // name: the call is recorded as it ended for the caller.
  if (absl::Status stop = limits.Check(); !stop.ok()) return stop;
  if (gallery.size == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "gallery '", gallery.name, "' is empty: nothing to calibrate"));
  }
  meta.created_at_us = absl::ToUnixMicros(absl::Now());
  meta.gallery_size = gallery.size;
  meta.gallery_version = gallery.version;
  meta.top_k = top_k;
  auto calibration = Calibration::Build(meta, obs->nonmated, obs->mated);
  if (!calibration.ok()) return calibration.status();
  absl::Status saved = store_->Save(
      gallery.name,
      std::make_shared<const Calibration>(*std::move(calibration)));
  if (!saved.ok()) return saved;
  const PolicyGallery now{gallery.name, gallery.size, override_policy};
  policy_->Refresh(now);
  v1::GetCalibrationRequest report_request;
  report_request.set_gallery(gallery.name);
  return policy_->Report(now, report_request);
}

}  // namespace candor::telemetry
