#include "clients/cpp/client.h"

#include <grpcpp/client_context.h>

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/cpp/connection.h"
#include "clients/cpp/grpc_status.h"
#include "clients/cpp/matrix.h"

namespace candor {
namespace {

std::shared_ptr<grpc::Channel> MakePlaintextChannel(
    const std::string& address) {
  ConnectionOptions options;
  options.address = address;
  // Plaintext without a token has nothing that can fail.
  return *MakeChannel(options);
}

absl::Status CheckPerRow(absl::string_view what, size_t count, int64_t rows,
                         bool may_be_empty) {
  if (may_be_empty && count == 0) return absl::OkStatus();
  if (static_cast<int64_t>(count) != rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "got ", count, " ", what, " for ", rows, " rows; need one per row"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(
    const ConnectionOptions& options, absl::Duration call_timeout) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(options);
  if (!channel.ok()) return channel.status();
  return std::make_unique<Client>(*std::move(channel), call_timeout);
}

Client::Client(const std::string& address, absl::Duration call_timeout)
    : Client(MakePlaintextChannel(address), call_timeout) {}

Client::Client(std::shared_ptr<grpc::Channel> channel,
               absl::Duration call_timeout)
    : channel_(std::move(channel)),
      stub_(v1::Candor::NewStub(channel_)),
      call_timeout_(call_timeout) {}

void Client::PrepareContext(grpc::ClientContext* context) const {
  if (call_timeout_ > absl::ZeroDuration()) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + call_timeout_));
  }
}

absl::StatusOr<v1::Gallery> Client::CreateGallery(const std::string& name,
                                                  uint32_t dimension,
                                                  const v1::IndexSpec& index,
                                                  const v1::Policy& policy) {
  v1::CreateGalleryRequest request;
  request.set_name(name);
  request.set_dimension(dimension);
  *request.mutable_index() = index;
  *request.mutable_policy() = policy;
  return Call(&v1::Candor::Stub::CreateGallery, request);
}

absl::StatusOr<v1::Gallery> Client::CreateGallery(
    const v1::CreateGalleryRequest& request) {
  return Call(&v1::Candor::Stub::CreateGallery, request);
}

absl::StatusOr<v1::Gallery> Client::GetGallery(const std::string& name) {
  v1::GetGalleryRequest request;
  request.set_name(name);
  return Call(&v1::Candor::Stub::GetGallery, request);
}

absl::StatusOr<std::vector<v1::Gallery>> Client::ListGalleries() {
  absl::StatusOr<v1::ListGalleriesResponse> response =
      Call(&v1::Candor::Stub::ListGalleries, v1::ListGalleriesRequest());
  if (!response.ok()) return response.status();
  return std::vector<v1::Gallery>(response->galleries().begin(),
                                  response->galleries().end());
}

absl::Status Client::DeleteGallery(const std::string& name) {
  v1::DeleteGalleryRequest request;
  request.set_name(name);
  return Call(&v1::Candor::Stub::DeleteGallery, request).status();
}

absl::StatusOr<v1::CompactGalleryResponse> Client::CompactGallery(
    const std::string& name) {
  v1::CompactGalleryRequest request;
  request.set_name(name);
  return Call(&v1::Candor::Stub::CompactGallery, request);
}

absl::StatusOr<std::vector<uint64_t>> Client::Enroll(
    const std::string& gallery, absl::Span<const float> vectors, int64_t rows,
    int64_t dim, absl::Span<const std::string> subject_ids,
    absl::Span<const std::string> groups, const std::string& request_id) {
  if (absl::Status s = CheckPerRow("subject ids", subject_ids.size(), rows,
                                   /*may_be_empty=*/false);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckPerRow("groups", groups.size(), rows,
                                   /*may_be_empty=*/true);
      !s.ok()) {
    return s;
  }
  v1::EnrollRequest request;
  absl::StatusOr<v1::Matrix> matrix = PackMatrix(vectors, rows, dim);
  if (!matrix.ok()) return matrix.status();
  request.set_gallery(gallery);
  *request.mutable_vectors() = *std::move(matrix);
  request.mutable_subject_ids()->Assign(subject_ids.begin(), subject_ids.end());
  request.mutable_groups()->Assign(groups.begin(), groups.end());
  request.set_request_id(request_id);
  absl::StatusOr<v1::EnrollResponse> response =
      Call(&v1::Candor::Stub::Enroll, request);
  if (!response.ok()) return response.status();
  return std::vector<uint64_t>(response->entry_ids().begin(),
                               response->entry_ids().end());
}

absl::StatusOr<std::vector<uint64_t>> Client::Remove(
    const v1::RemoveRequest& request) {
  absl::StatusOr<v1::RemoveResponse> response =
      Call(&v1::Candor::Stub::Remove, request);
  if (!response.ok()) return response.status();
  return std::vector<uint64_t>(response->removed_entry_ids().begin(),
                               response->removed_entry_ids().end());
}

absl::StatusOr<std::vector<uint64_t>> Client::RemoveEntries(
    const std::string& gallery, absl::Span<const uint64_t> entry_ids) {
  v1::RemoveRequest request;
  request.set_gallery(gallery);
  request.mutable_entry_ids()->mutable_ids()->Assign(entry_ids.begin(),
                                                     entry_ids.end());
  return Remove(request);
}

absl::StatusOr<std::vector<uint64_t>> Client::RemoveSubject(
    const std::string& gallery, const std::string& subject_id) {
  v1::RemoveRequest request;
  request.set_gallery(gallery);
  request.set_subject_id(subject_id);
  return Remove(request);
}

absl::StatusOr<v1::CalibrationReport> Client::CalibrateLabeled(
    const std::string& gallery, int64_t dim, const LabeledSetInput& set,
    uint32_t top_k) {
  if (absl::Status s =
          CheckPerRow("non-mated groups", set.nonmated_groups.size(),
                      set.nonmated_rows, /*may_be_empty=*/true);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckPerRow("mated groups", set.mated_groups.size(),
                                   set.mated_rows, /*may_be_empty=*/true);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckPerRow("mated subject ids", set.mated_subject_ids.size(),
                      set.mated_rows, /*may_be_empty=*/false);
      !s.ok()) {
    return s;
  }
  v1::CalibrateRequest request;
  request.set_gallery(gallery);
  request.set_top_k(top_k);
  v1::LabeledSet* labeled = request.mutable_labeled();
  absl::StatusOr<v1::Matrix> nonmated =
      PackMatrix(set.nonmated, set.nonmated_rows, dim);
  if (!nonmated.ok()) return nonmated.status();
  *labeled->mutable_nonmated() = *std::move(nonmated);
  labeled->mutable_nonmated_groups()->Assign(set.nonmated_groups.begin(),
                                             set.nonmated_groups.end());
  if (set.mated_rows > 0) {
    absl::StatusOr<v1::Matrix> mated =
        PackMatrix(set.mated, set.mated_rows, dim);
    if (!mated.ok()) return mated.status();
    *labeled->mutable_mated() = *std::move(mated);
    labeled->mutable_mated_groups()->Assign(set.mated_groups.begin(),
                                            set.mated_groups.end());
    labeled->mutable_mated_subject_ids()->Assign(set.mated_subject_ids.begin(),
                                                 set.mated_subject_ids.end());
  }
  return Call(&v1::Candor::Stub::Calibrate, request);
}

absl::StatusOr<v1::CalibrationReport> Client::CalibrateSelfAudit(
    const std::string& gallery, uint32_t sample_size, uint64_t seed,
    uint32_t top_k) {
  v1::CalibrateRequest request;
  request.set_gallery(gallery);
  request.set_top_k(top_k);
  request.mutable_self_audit()->set_sample_size(sample_size);
  request.mutable_self_audit()->set_seed(seed);
  return Call(&v1::Candor::Stub::Calibrate, request);
}

absl::StatusOr<v1::CalibrationReport> Client::GetCalibration(
    const std::string& gallery, absl::Span<const float> thresholds,
    double target_fpir) {
  v1::GetCalibrationRequest request;
  request.set_gallery(gallery);
  request.mutable_thresholds()->Assign(thresholds.begin(), thresholds.end());
  request.set_target_fpir(target_fpir);
  return Call(&v1::Candor::Stub::GetCalibration, request);
}

absl::StatusOr<v1::Gallery> Client::SetPolicy(const std::string& gallery,
                                              const v1::Policy& policy,
                                              bool clear) {
  v1::SetPolicyRequest request;
  request.set_gallery(gallery);
  *request.mutable_policy() = policy;
  request.set_clear(clear);
  return Call(&v1::Candor::Stub::SetPolicy, request);
}

absl::StatusOr<v1::Gallery> Client::TrainIndex(const std::string& gallery,
                                               uint32_t nlist) {
  v1::TrainIndexRequest request;
  request.set_gallery(gallery);
  request.set_nlist(nlist);
  return Call(&v1::Candor::Stub::TrainIndex, request);
}

absl::StatusOr<v1::Stats> Client::GetStats() {
  return Call(&v1::Candor::Stub::GetStats, v1::GetStatsRequest());
}

}  // namespace candor
