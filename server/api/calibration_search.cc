#include "server/api/calibration_search.h"

#include <algorithm>
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "kernels/normalize.h"
#include "server/edge/validation.h"

namespace candor::api {
namespace {

// Calibration searches are offline work: a generous deadline per chunk.
constexpr absl::Duration kChunkDeadline = absl::Minutes(10);

// Runs every probe through the runner, a chunk at a time, waiting for each
// chunk; stops before a chunk when `limits` says so.
absl::StatusOr<std::vector<std::vector<Candidate>>> SearchAll(
    const std::shared_ptr<gallery::Gallery>& gallery, SearchRunner* runner,
    const std::vector<float>& probes, const std::vector<ProbeQuery>& queries,
    int max_batch, const CallLimits& limits) {
  const size_t dim = static_cast<size_t>(gallery->dimension());
  const size_t chunk_rows =
      static_cast<size_t>(std::max(1, std::min(max_batch, kCalibrationChunk)));
  std::vector<std::vector<Candidate>> all;
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
    std::vector<ProbeQuery> chunk_queries(queries.begin() + first,
                                          queries.begin() + first + n);
    absl::Notification done;
    absl::StatusOr<SearchOutcome> outcome;
    runner->Run(gallery, std::move(chunk), std::move(chunk_queries),
                std::min(limits.deadline, absl::Now() + kChunkDeadline),
                [&](absl::StatusOr<SearchOutcome> result) {
                  outcome = std::move(result);
                  done.Notify();
                });
    done.WaitForNotification();
    if (!outcome.ok()) return outcome.status();
    for (auto& c : outcome->candidates) all.push_back(std::move(c));
  }
  return all;
}

absl::StatusOr<std::vector<std::string>> Labels(
    const google::protobuf::RepeatedPtrField<std::string>& labels, int rows,
    const std::string& field) {
  if (labels.empty()) return std::vector<std::string>(rows);
  if (labels.size() != rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", labels.size(), " labels for ", rows, " probes"));
  }
  return std::vector<std::string>(labels.begin(), labels.end());
}

// Checks and normalizes a calibration matrix; an empty one is allowed.
absl::StatusOr<std::vector<float>> Probes(const v1::Matrix& matrix, int dim,
                                          const std::string& field) {
  if (matrix.rows() == 0) return std::vector<float>();
  // The whole set is validated at once; it is searched in chunks later.
  auto rows = UnpackRows(matrix, dim, static_cast<int>(matrix.rows()), field);
  if (!rows.ok()) return rows.status();
  absl::Status s = kernels::L2NormalizeRowsInPlace(
      rows->data(), matrix.rows(), dim, field);
  if (!s.ok()) return s;
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

absl::StatusOr<Observations> SearchLabeledSet(
    std::shared_ptr<gallery::Gallery> gallery, SearchRunner* runner,
    const v1::LabeledSet& set, int top_k, int max_batch,
    const CallLimits& limits) {
  const int dim = gallery->dimension();
  const int n_non = static_cast<int>(set.nonmated().rows());
  const int n_mated = static_cast<int>(set.mated().rows());
  if (n_non + n_mated == 0) {
    return absl::InvalidArgumentError(
        "labeled: no probes (give non-mated and/or mated probes)");
  }
  auto nonmated = Probes(set.nonmated(), dim, "labeled.nonmated");
  if (!nonmated.ok()) return nonmated.status();
  auto mated = Probes(set.mated(), dim, "labeled.mated");
  if (!mated.ok()) return mated.status();
  auto non_groups = Labels(set.nonmated_groups(), n_non, "labeled.nonmated_groups");
  if (!non_groups.ok()) return non_groups.status();
  auto mated_groups = Labels(set.mated_groups(), n_mated, "labeled.mated_groups");
  if (!mated_groups.ok()) return mated_groups.status();
  if (set.mated_subject_ids_size() != n_mated) {
    return absl::InvalidArgumentError(absl::StrCat(
        "labeled.mated_subject_ids: ", set.mated_subject_ids_size(),
        " ids for ", n_mated, " mated probes (need one per row)"));
  }

  Observations obs;
  // Non-mated: only the best score matters.
  std::vector<ProbeQuery> top1(n_non, ProbeQuery{-1.0f, 1, 0});
  auto non_hits = SearchAll(gallery, runner, *nonmated, top1, max_batch,
                             limits);
  if (!non_hits.ok()) return non_hits.status();
  for (int i = 0; i < n_non; ++i) {
    const auto& c = (*non_hits)[i];
    obs.nonmated.push_back(
        {(*non_groups)[i], c.empty() ? telemetry::kNoScore : c[0].score});
  }
  std::vector<ProbeQuery> deep(n_mated, ProbeQuery{-1.0f, top_k, 0});
  auto mated_hits = SearchAll(gallery, runner, *mated, deep, max_batch,
                               limits);
  if (!mated_hits.ok()) return mated_hits.status();
  for (int i = 0; i < n_mated; ++i) {
    telemetry::MatedObservation m;
    m.group = (*mated_groups)[i];
    const auto& c = (*mated_hits)[i];
    for (size_t r = 0; r < c.size(); ++r) {
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

absl::StatusOr<Observations> SearchSelfAudit(
    std::shared_ptr<gallery::Gallery> gallery, SearchRunner* runner,
    const v1::SelfAudit& audit, int top_k, int max_batch,
    const CallLimits& limits) {
  std::vector<gallery::EntryMeta> entries = gallery->Entries();
  if (entries.size() < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "self-audit needs at least 2 entries; gallery '", gallery->name(),
        "' has ", entries.size()));
  }
  if (audit.sample_size() == 0) {
    return absl::InvalidArgumentError("self_audit.sample_size: must be >= 1");
  }
  std::map<std::string, int> per_subject;
  for (const auto& e : entries) ++per_subject[e.subject_id];
  // A fixed seed reproduces the sample (for one standard library: the
  // shuffle's algorithm is implementation-defined).
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  std::mt19937_64 rng(audit.seed());
  std::shuffle(entries.begin(), entries.end(), rng);
  entries.resize(std::min<size_t>(entries.size(), audit.sample_size()));

  const int dim = gallery->dimension();
  std::vector<float> probes(entries.size() * dim);
  std::vector<ProbeQuery> queries(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    absl::Status s = gallery->GetVector(entries[i].id, probes.data() + i * dim);
    if (!s.ok()) return s;
    // Deep enough to step over every entry of the probe's own subject (for
    // the non-mated score) and over the probe itself (for the mate's rank).
    const int own = per_subject[entries[i].subject_id];
    queries[i] = ProbeQuery{-1.0f, std::max(own + 1, top_k + 1), 0};
  }
  auto hits = SearchAll(gallery, runner, probes, queries, max_batch, limits);
  if (!hits.ok()) return hits.status();

  Observations obs;
  for (size_t i = 0; i < entries.size(); ++i) {
    const gallery::EntryMeta& e = entries[i];
    float nonmated_top1 = telemetry::kNoScore;
    telemetry::MatedObservation mated;
    mated.group = e.group;
    int rank = 0;  // among candidates other than the probe entry itself
    for (const Candidate& c : (*hits)[i]) {
      if (c.entry_id == e.id) continue;
      if (c.subject_id != e.subject_id) {
        if (nonmated_top1 == telemetry::kNoScore) nonmated_top1 = c.score;
      } else if (mated.mate_rank < 0 && rank < top_k) {
        mated.mate_rank = rank;
        mated.mate_score = c.score;
      }
      ++rank;
    }
    obs.nonmated.push_back({e.group, nonmated_top1});
    if (per_subject[e.subject_id] >= 2) obs.mated.push_back(mated);
  }
  return obs;
}

}  // namespace candor::api
