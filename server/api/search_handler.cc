// Search and SearchStream: one search path (StartSearch) for both. Probes
// are validated and normalized here (only checked for a gallery whose index
// normalizes on the device), the threshold and its cost decided by
// the telemetry hub, the search run by the SearchRunner (direct or batched),
// and the reactor finished from the runner's completion callback.
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "kernels/normalize.h"
#include "server/api/candor_service.h"
#include "server/edge/search_stream.h"
#include "server/edge/unary.h"
#include "server/edge/validation.h"

namespace candor::api {
namespace {

void FillResults(const v1::SearchRequest& request,
                 const std::vector<std::vector<Candidate>>& candidates,
                 v1::SearchResponse* response) {
  response->mutable_results()->Reserve(static_cast<int>(candidates.size()));
  for (size_t i = 0; i < candidates.size(); ++i) {
    v1::ProbeResult* result = response->add_results();
    result->set_probe_index(static_cast<uint32_t>(i));
    if (request.probe_info_size() > 0) {
      result->set_ref(request.probe_info(static_cast<int>(i)).ref());
      result->set_group(request.probe_info(static_cast<int>(i)).group());
    }
    result->mutable_candidates()->Reserve(static_cast<int>(candidates[i].size()));
    for (const Candidate& c : candidates[i]) {
      v1::Candidate* out = result->add_candidates();
      out->set_entry_id(c.entry_id);
      out->set_subject_id(c.subject_id);
      out->set_group(c.group);
      out->set_score(c.score);
    }
  }
}

// The checks of a search against its gallery, in the order a caller meets
// their errors; returns the probe rows, not yet normalized. Before any
// work: a response that could not be sent is not built.
absl::StatusOr<std::vector<float>> CheckSearch(
    const v1::SearchRequest& request, const gallery::Gallery& gallery,
    const LimitOptions& limits) {
  absl::Status status = ValidateTopK(request.top_k(), limits.max_top_k);
  if (!status.ok()) return status;
  if (request.has_threshold()) {
    status = ValidateThreshold(request.threshold());
    if (!status.ok()) return status;
  }
  auto probes = UnpackRows(request.probes(), gallery.dimension(),
                           limits.max_batch, "probes");
  if (!probes.ok()) return probes.status();
  const int rows = static_cast<int>(request.probes().rows());
  status = ValidateProbeInfo(request, rows);
  if (!status.ok()) return status;
  status = ValidateSearchResponseSize(request, rows, gallery.size(),
                                      limits.max_message_bytes);
  if (!status.ok()) return status;
  return probes;
}

// Normalizes the probe rows in place. A GPU flat gallery normalizes on the
// device, fused with its GEMM input conversion; the rows are only checked
// here then, with the same errors.
absl::Status PrepareProbes(const gallery::Gallery& gallery, int rows,
                           std::vector<float>* probes) {
  const int dim = gallery.dimension();
  return gallery.normalizes_probes()
             ? kernels::CheckRowsNormalizable(probes->data(), rows, dim,
                                              "probes")
             : kernels::L2NormalizeRowsInPlace(probes->data(), rows, dim,
                                               "probes");
}

// One query per probe: the decided threshold, the request's top_k and
// nprobe.
std::vector<ProbeQuery> QueriesOf(const v1::SearchRequest& request, int rows,
                                  float threshold) {
  std::vector<ProbeQuery> queries(static_cast<size_t>(rows));
  for (ProbeQuery& q : queries) {
    q.threshold = threshold;
    q.top_k = static_cast<int>(request.top_k());
    q.nprobe = static_cast<int>(request.nprobe());
  }
  return queries;
}

// Fills the response from the search's outcome and notes the timings in
// the call's record; nothing is filled when the answer would not fit in a
// message (ValidateSearchResults).
absl::Status AnswerSearch(const SearchOutcome& outcome,
                          const std::string& backend, int max_message_bytes,
                          AdmittedSearch* search) {
  const v1::SearchRequest& request = search->request;
  if (absl::Status size = ValidateSearchResults(request, outcome.candidates,
                                                max_message_bytes);
      !size.ok()) {
    return size;
  }
  search->record.queue_time = outcome.queue_time;
  search->record.search_time = outcome.search_time;
  const absl::Time telemetry_start = absl::Now();
  v1::SearchResponse* response = search->response;
  FillResults(request, outcome.candidates, response);
  response->set_gallery_version(outcome.version);
  response->set_backend(backend);
  if (!request.omit_report()) {
    *response->mutable_report() = std::move(search->decision.report);
  }
  search->record.gallery_version = outcome.version;
  search->record.telemetry_time = absl::Now() - telemetry_start;
  return absl::OkStatus();
}

}  // namespace

void CandorService::StartSearch(std::shared_ptr<AdmittedSearch> search) {
  const v1::SearchRequest& request = search->request;
  absl::Status status = ValidatePurpose(request.purpose(),
                                        options_.limits.max_purpose_bytes,
                                        options_.policy.require_purpose);
  if (!status.ok()) return FinishSearch(search, status);
  auto gallery = FindGallery(request.gallery());
  if (!gallery.ok()) return FinishSearch(search, gallery.status());
  auto probes = CheckSearch(request, **gallery, options_.limits);
  if (!probes.ok()) return FinishSearch(search, probes.status());
  const int rows = static_cast<int>(request.probes().rows());
  const absl::Time normalize_start = absl::Now();
  status = PrepareProbes(**gallery, rows, &*probes);
  if (!status.ok()) return FinishSearch(search, status);
  search->record.normalize_time = absl::Now() - normalize_start;

  auto decision = telemetry_->Decide(**gallery, request);
  if (!decision.ok()) return FinishSearch(search, decision.status());
  search->decision = *std::move(decision);
  search->record.decision = &search->decision;

  runner_->Run(
      *gallery, *std::move(probes),
      QueriesOf(request, rows, search->decision.threshold), search->deadline,
      [this, search, max_message_bytes = options_.limits.max_message_bytes,
       backend = (*gallery)->backend()](
          absl::StatusOr<SearchOutcome> outcome) {
        if (!outcome.ok()) return FinishSearch(search, outcome.status());
        FinishSearch(search, AnswerSearch(*outcome, backend,
                                          max_message_bytes, search.get()));
      });
}

}  // namespace candor::api
