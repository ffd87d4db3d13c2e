// Calibrate and GetCalibration through the router: the calibrator and the
// threshold decision are the ones a server runs (server/telemetry), over
// the whole gallery. The router gives the calibrator its callbacks: a
// search scattered to every shard and merged exactly (as a Search), and a
// self-audit's sample drawn across the shards (router_sample.h). The
// calibration is the router's, kept in <data_dir>/router-calibrations/.
#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/edge/unary.h"
#include "server/edge/validation.h"
#include "server/router/matrix_rows.h"
#include "server/router/router_sample.h"
#include "server/router/router_service.h"
#include "server/telemetry/calibrator.h"

namespace candor::router {
namespace {

// A matrix's float32 rows as the calibrator reads them (rows x dimension);
// the values are checked by the shards, which normalize them too.
absl::StatusOr<std::vector<float>> ReadRows(const v1::Matrix& matrix,
                                            int dimension,
                                            const std::string& field) {
  auto rows = CheckMatrix(matrix, static_cast<int>(matrix.rows()), field);
  if (!rows.ok()) return rows.status();
  if (static_cast<int>(matrix.cols()) != dimension) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", matrix.cols(), " columns, but the gallery's ",
                     "dimension is ", dimension));
  }
  std::vector<float> out(static_cast<size_t>(*rows) * matrix.cols());
  std::memcpy(out.data(), matrix.data().data(), out.size() * sizeof(float));
  return out;
}

v1::Matrix RowsOf(const std::vector<float>& values, int rows, int cols) {
  v1::Matrix m;
  m.set_rows(static_cast<uint32_t>(rows));
  m.set_cols(static_cast<uint32_t>(cols));
  m.set_data(values.data(), values.size() * sizeof(float));
  return m;
}

}  // namespace

absl::Status RouterService::DoCalibrate(const v1::CalibrateRequest& req,
                                        const telemetry::CallLimits& limits,
                                        v1::CalibrationReport* resp) {
  const absl::Time deadline = limits.deadline;
  if (req.gallery().empty()) {
    return absl::InvalidArgumentError("gallery: name is empty");
  }
  // The caps a server checks before any search: a calibration's groups are
  // reported by every later search.
  if (req.has_labeled()) {
    absl::Status status = api::ValidateCalibrationLabels(
        req.labeled(), options_.server.limits.max_calibration_groups);
    if (!status.ok()) return status;
  }
  // The gallery as calibrated: size and version before the searches.
  auto before = AggregatedGallery(req.gallery(), deadline);
  if (!before.ok()) return before.status();
  telemetry::CalibrationBackend backend;
  backend.gallery = {req.gallery(), static_cast<int>(before->dimension()),
                     before->size(), before->version()};
  backend.max_batch = options_.server.limits.max_batch;
  backend.max_top_k = options_.server.limits.max_top_k;
  const int dim = backend.gallery.dimension;
  backend.read_probes = [dim](const v1::Matrix& matrix,
                              const std::string& field) {
    return ReadRows(matrix, dim, field);
  };
  backend.search = [this, &req, dim](
                       std::vector<float> probes,
                       std::vector<telemetry::CalibrationQuery> queries,
                       absl::Time chunk_deadline)
      -> absl::StatusOr<std::vector<std::vector<Candidate>>> {
    // Every probe at threshold -1, at the deepest top_k of the chunk (the
    // merge keeps each probe's best first; shallower probes are cut here).
    int top_k = 1;
    for (const auto& q : queries) top_k = std::max(top_k, q.top_k);
    v1::SearchRequest chunk;
    chunk.set_gallery(req.gallery());
    *chunk.mutable_probes() =
        RowsOf(probes, static_cast<int>(queries.size()), dim);
    chunk.set_threshold(-1.0f);
    chunk.set_top_k(static_cast<uint32_t>(top_k));
    chunk.set_omit_report(true);
    chunk.set_purpose("calibration");
    auto merged = SearchAndWait(chunk, chunk_deadline);
    if (!merged.ok()) return merged.status();
    if (merged->results_size() != static_cast<int>(queries.size())) {
      return absl::InternalError(
          absl::StrCat("the merged search answered ", merged->results_size(),
                       " probes of ", queries.size()));
    }
    std::vector<std::vector<Candidate>> out(queries.size());
    for (size_t i = 0; i < queries.size(); ++i) {
      const v1::ProbeResult& r = merged->results(static_cast<int>(i));
      std::vector<Candidate>& list = out[i];
      const int k = queries[i].top_k;
      for (const v1::Candidate& c : r.candidates()) {
        if (static_cast<int>(list.size()) == k) break;
        list.push_back({c.entry_id(), c.subject_id(), c.group(), c.score()});
      }
    }
    return out;
  };
  backend.sample = [this, &req](uint32_t sample_size, uint64_t seed,
                                absl::Time sample_deadline) {
    return SampleAcrossShards(*shards_, req.gallery(), sample_size, seed,
                              ShardDeadline(sample_deadline));
  };
  auto report = telemetry_->calibrator().Calibrate(
      backend, req, limits, policies_->Find(req.gallery()));
  if (!report.ok()) return report.status();
  *resp = *std::move(report);
  return absl::OkStatus();
}

absl::Status RouterService::Do(const Ctx& ctx, const v1::CalibrateRequest& req,
                               v1::CalibrationReport* resp) {
  // Its searches take long: it looks at the caller's deadline and
  // cancellation between chunks, as a server's does.
  telemetry::CallLimits limits;
  limits.deadline = api::DeadlineOf(ctx);
  limits.cancelled = [ctx = &ctx] { return ctx->IsCancelled(); };
  return DoCalibrate(req, limits, resp);
}

absl::Status RouterService::Do(const Ctx& ctx,
                               const v1::GetCalibrationRequest& req,
                               v1::CalibrationReport* resp) {
  if (req.gallery().empty()) {
    return absl::InvalidArgumentError("gallery: name is empty");
  }
  auto size = GallerySize(req.gallery(), api::DeadlineOf(ctx));
  if (!size.ok()) return size.status();
  auto report = telemetry_->policy().Report(
      {req.gallery(), *size, policies_->Find(req.gallery())}, req);
  if (!report.ok()) return report.status();
  *resp = *std::move(report);
  return absl::OkStatus();
}

}  // namespace candor::router
