// Client's search calls: unary Search and the SearchStream helper.
#include <grpcpp/client_context.h>

#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/cpp/client.h"
#include "clients/cpp/grpc_status.h"
#include "clients/cpp/matrix.h"

namespace candor {

absl::StatusOr<v1::SearchRequest> Client::BuildSearchRequest(
    const std::string& gallery, absl::Span<const float> probes, int64_t rows,
    int64_t dim, const SearchOptions& options) {
  const auto per_row = [rows](const std::vector<std::string>& v) {
    return v.empty() || static_cast<int64_t>(v.size()) == rows;
  };
  if (!per_row(options.groups) || !per_row(options.refs)) {
    return absl::InvalidArgumentError(
        absl::StrCat("got ", options.groups.size(), " probe groups and ",
                     options.refs.size(), " refs for ", rows,
                     " probes; each must be empty or one per probe"));
  }
  absl::StatusOr<v1::Matrix> matrix = PackMatrix(probes, rows, dim);
  if (!matrix.ok()) return matrix.status();
  v1::SearchRequest request;
  request.set_gallery(gallery);
  *request.mutable_probes() = *std::move(matrix);
  if (!options.groups.empty() || !options.refs.empty()) {
    for (int64_t i = 0; i < rows; ++i) {
      v1::ProbeInfo* info = request.add_probe_info();
      if (!options.groups.empty()) info->set_group(options.groups[i]);
      if (!options.refs.empty()) info->set_ref(options.refs[i]);
    }
  }
  if (options.threshold.has_value()) request.set_threshold(*options.threshold);
  request.set_top_k(options.top_k);
  request.set_purpose(options.purpose);
  request.set_omit_report(options.omit_report);
  request.set_nprobe(options.nprobe);
  return request;
}

absl::StatusOr<v1::SearchResponse> Client::Search(
    const std::string& gallery, absl::Span<const float> probes, int64_t rows,
    int64_t dim, const SearchOptions& options) {
  absl::StatusOr<v1::SearchRequest> request =
      BuildSearchRequest(gallery, probes, rows, dim, options);
  if (!request.ok()) return request.status();
  return Call(&v1::Candor::Stub::Search, *request);
}

absl::StatusOr<std::vector<v1::SearchResponse>> Client::SearchStream(
    const std::string& gallery, int64_t dim,
    absl::Span<const ProbeBatch> batches) {
  // Build every request first so that a malformed batch fails before
  // anything is sent.
  std::vector<v1::SearchRequest> requests;
  requests.reserve(batches.size());
  for (const ProbeBatch& batch : batches) {
    absl::StatusOr<v1::SearchRequest> request = BuildSearchRequest(
        gallery, batch.probes, batch.rows, dim, batch.options);
    if (!request.ok()) return request.status();
    requests.push_back(*std::move(request));
  }
  grpc::ClientContext context;
  PrepareContext(&context);
  auto stream = stub_->SearchStream(&context);
  // Responses are read on their own thread: writing every request before
  // reading would stall once the server's responses fill the flow-control
  // window.
  std::vector<v1::SearchResponse> responses;
  std::thread reader([&stream, &responses] {
    v1::SearchResponse response;
    while (stream->Read(&response)) responses.push_back(std::move(response));
  });
  for (const v1::SearchRequest& request : requests) {
    // A failed write means the stream is broken; Finish says why.
    if (!stream->Write(request)) break;
  }
  stream->WritesDone();
  reader.join();
  absl::Status status = ToAbslStatus(stream->Finish());
  if (!status.ok()) return status;
  if (responses.size() != requests.size()) {
    return absl::InternalError(absl::StrCat("SearchStream answered ",
                                            responses.size(), " of ",
                                            requests.size(), " batches"));
  }
  return responses;
}

}  // namespace candor
