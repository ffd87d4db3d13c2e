// Calibrate and GetCalibration through the router. A labeled set is
// searched over the whole gallery (scattered to the shards and merged, as
// a search), so the calibration measures what a single server holding the
// same entries would measure; the router keeps it (router_telemetry.h).
//
// A self-audit is refused: it samples the gallery's own entries and needs
// their vectors and each subject's entry count, which live on the shards.
// Sending it to each shard would calibrate each shard's part (the wrong
// gallery size for FPIR); doing it here needs a shard RPC that returns
// sampled vectors, which the API does not have.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/router/matrix_rows.h"
#include "server/router/router_service.h"
#include "server/telemetry/calibration.h"

namespace candor::router {
namespace {

constexpr int kDefaultCalibrationTopK = 10;
// Calibration searches are offline work: a generous deadline per chunk.
constexpr absl::Duration kChunkDeadline = absl::Minutes(10);

absl::StatusOr<std::vector<std::string>> Labels(
    const google::protobuf::RepeatedPtrField<std::string>& labels, int rows,
    const std::string& field) {
  if (labels.empty())
    return std::vector<std::string>(static_cast<size_t>(rows));
  if (labels.size() != rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", labels.size(), " labels for ", rows, " probes"));
  }
  return std::vector<std::string>(labels.begin(), labels.end());
}

}  // namespace

absl::Status RouterService::DoCalibrate(const v1::CalibrateRequest& req,
                                        absl::Time deadline,
                                        v1::CalibrationReport* resp) {
  if (req.gallery().empty()) {
    return absl::InvalidArgumentError("gallery: name is empty");
  }
  if (req.source_case() == v1::CalibrateRequest::kSelfAudit) {
    return absl::UnimplementedError(
        "self_audit: not available through the router (the gallery's entries "
        "are on the shards, and a per-shard audit would measure the wrong "
        "gallery size); calibrate with a labeled set through the router");
  }
  if (req.source_case() != v1::CalibrateRequest::kLabeled) {
    return absl::InvalidArgumentError(
        "source: give a labeled set or self_audit");
  }
  const int top_k = req.top_k() == 0 ? kDefaultCalibrationTopK
                                     : static_cast<int>(req.top_k());
  if (top_k > options_.server.limits.max_top_k) {
    return absl::InvalidArgumentError(absl::StrCat(
        "top_k: ", top_k, " is outside 1..", options_.server.limits.max_top_k));
  }
  const v1::LabeledSet& set = req.labeled();
  const int n_non = static_cast<int>(set.nonmated().rows());
  const int n_mated = static_cast<int>(set.mated().rows());
  if (n_non + n_mated == 0) {
    return absl::InvalidArgumentError(
        "labeled: no probes (give non-mated and/or mated probes)");
  }
  // The whole set is checked at once; it is searched in chunks.
  for (const auto& [matrix, field] : {std::pair<const v1::Matrix*, const char*>{
                                          &set.nonmated(), "labeled.nonmated"},
                                      {&set.mated(), "labeled.mated"}}) {
    if (matrix->rows() == 0) continue;
    auto rows = CheckMatrix(*matrix, static_cast<int>(matrix->rows()), field);
    if (!rows.ok()) return rows.status();
  }
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

  // The gallery as calibrated: size and version before the searches.
  auto before = AggregatedGallery(req.gallery(), deadline);
  if (!before.ok()) return before.status();
  if (before->size() == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "gallery '", req.gallery(), "' is empty: nothing to calibrate"));
  }

  // Every probe at threshold -1: top-1 for non-mated, top_k for mated.
  const int max_batch = options_.server.limits.max_batch;
  auto search = [&](const v1::Matrix& matrix, int rows, int k,
                    std::vector<v1::ProbeResult>* out) -> absl::Status {
    for (int first = 0; first < rows; first += max_batch) {
      v1::SearchRequest chunk;
      chunk.set_gallery(req.gallery());
      *chunk.mutable_probes() =
          RowRange(matrix, first, std::min(max_batch, rows - first));
      chunk.set_threshold(-1.0f);
      chunk.set_top_k(static_cast<uint32_t>(k));
      chunk.set_omit_report(true);
      chunk.set_purpose("calibration");
      auto merged = SearchAndWait(chunk, absl::Now() + kChunkDeadline);
      if (!merged.ok()) return merged.status();
      for (auto& r : *merged->mutable_results()) out->push_back(std::move(r));
    }
    return absl::OkStatus();
  };
  std::vector<v1::ProbeResult> non_hits, mated_hits;
  absl::Status status = search(set.nonmated(), n_non, 1, &non_hits);
  if (!status.ok()) return status;
  status = search(set.mated(), n_mated, top_k, &mated_hits);
  if (!status.ok()) return status;

  std::vector<telemetry::NonMatedObservation> nonmated;
  for (int i = 0; i < n_non; ++i) {
    const auto& c = non_hits[static_cast<size_t>(i)].candidates();
    nonmated.push_back({(*non_groups)[static_cast<size_t>(i)],
                        c.empty() ? telemetry::kNoScore : c[0].score()});
  }
  std::vector<telemetry::MatedObservation> mated;
  for (int i = 0; i < n_mated; ++i) {
    telemetry::MatedObservation m;
    m.group = (*mated_groups)[static_cast<size_t>(i)];
    const auto& c = mated_hits[static_cast<size_t>(i)].candidates();
    for (int r = 0; r < c.size(); ++r) {
      if (c[r].subject_id() == set.mated_subject_ids(i)) {
        m.mate_rank = r;
        m.mate_score = c[r].score();
        break;
      }
    }
    mated.push_back(m);
  }
  telemetry::CalibrationMeta meta;
  meta.source = telemetry::kSourceLabeled;
  meta.created_at_us = absl::ToUnixMicros(absl::Now());
  meta.gallery_size = before->size();
  meta.gallery_version = before->version();
  meta.top_k = top_k;
  auto calibration = telemetry::Calibration::Build(meta, nonmated, mated);
  if (!calibration.ok()) return calibration.status();
  telemetry_->Store(req.gallery(), *std::move(calibration));

  v1::GetCalibrationRequest report_request;
  report_request.set_gallery(req.gallery());
  auto report =
      telemetry_->Report(req.gallery(), before->size(), report_request);
  if (!report.ok()) return report.status();
  *resp = *std::move(report);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* RouterService::Calibrate(
    grpc::CallbackServerContext* ctx, const v1::CalibrateRequest* req,
    v1::CalibrationReport* resp) {
  return Finish(ctx, "Calibrate", [&] {
    return DoCalibrate(*req, absl::FromChrono(ctx->deadline()), resp);
  });
}

grpc::ServerUnaryReactor* RouterService::GetCalibration(
    grpc::CallbackServerContext* ctx, const v1::GetCalibrationRequest* req,
    v1::CalibrationReport* resp) {
  return Finish(ctx, "GetCalibration", [&]() -> absl::Status {
    if (req->gallery().empty()) {
      return absl::InvalidArgumentError("gallery: name is empty");
    }
    auto size = GallerySize(req->gallery(), absl::FromChrono(ctx->deadline()));
    if (!size.ok()) return size.status();
    auto report = telemetry_->Report(req->gallery(), *size, *req);
    if (!report.ok()) return report.status();
    *resp = *std::move(report);
    return absl::OkStatus();
  });
}

}  // namespace candor::router
