// Enroll and Remove: validated in full before anything changes, durable
// when they return OK (the gallery fsyncs its write-ahead log).
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "kernels/normalize.h"
#include "server/api/candor_service.h"
#include "server/api/gallery_limits.h"
#include "server/edge/validation.h"

namespace candor::api {

absl::Status CandorService::DoEnroll(const v1::EnrollRequest& req,
                                     v1::EnrollResponse* resp) {
  auto gallery = FindGallery(req.gallery());
  if (!gallery.ok()) return gallery.status();
  const int dim = (*gallery)->dimension();
  auto vectors = UnpackRows(req.vectors(), dim, options_.limits.max_batch,
                            "vectors");
  if (!vectors.ok()) return vectors.status();
  const int rows = static_cast<int>(req.vectors().rows());
  absl::Status status = ValidateEnrollLabels(req, rows);
  if (!status.ok()) return status;
  status = ValidateGalleryCapacity((*gallery)->size(), dim, rows,
                                   options_.limits);
  if (!status.ok()) return status;
  status = kernels::L2NormalizeRowsInPlace(vectors->data(), rows, dim, "vectors");
  if (!status.ok()) return status;

  std::vector<std::string> subjects(req.subject_ids().begin(),
                                    req.subject_ids().end());
  std::vector<std::string> groups(req.groups().begin(), req.groups().end());
  auto result = (*gallery)->Enroll(*vectors, subjects, groups, req.request_id());
  if (!result.ok()) return result.status();
  resp->mutable_entry_ids()->Add(result->entry_ids.begin(),
                                 result->entry_ids.end());
  resp->set_version(result->version);
  resp->set_replayed(result->replayed);
  return absl::OkStatus();
}

absl::Status CandorService::DoRemove(const v1::RemoveRequest& req,
                                     v1::RemoveResponse* resp) {
  auto gallery = FindGallery(req.gallery());
  if (!gallery.ok()) return gallery.status();
  absl::StatusOr<gallery::RemoveResult> result;
  switch (req.target_case()) {
    case v1::RemoveRequest::kEntryIds: {
      if (req.entry_ids().ids_size() == 0) {
        return absl::InvalidArgumentError("entry_ids: no ids given");
      }
      if (req.entry_ids().ids_size() > options_.limits.max_batch) {
        return absl::InvalidArgumentError(
            absl::StrCat("entry_ids: ", req.entry_ids().ids_size(),
                         " ids is over the server's maximum of ",
                         options_.limits.max_batch));
      }
      std::vector<EntryId> ids(req.entry_ids().ids().begin(),
                               req.entry_ids().ids().end());
      result = (*gallery)->RemoveEntries(ids);
      break;
    }
    case v1::RemoveRequest::kSubjectId:
      if (req.subject_id().empty()) {
        return absl::InvalidArgumentError("subject_id: empty");
      }
      result = (*gallery)->RemoveSubject(req.subject_id());
      break;
    default:
      return absl::InvalidArgumentError(
          "target: give entry_ids or subject_id");
  }
  if (!result.ok()) return result.status();
  resp->mutable_removed_entry_ids()->Add(result->removed.begin(),
                                         result->removed.end());
  resp->set_version(result->version);
  return absl::OkStatus();
}

int64_t CandorService::GallerySize(const std::string& name) const {
  auto gallery = store_->Get(name);
  return gallery.ok() ? static_cast<int64_t>((*gallery)->Info().size) : -1;
}

absl::Status CandorService::Work(const Ctx&, const v1::EnrollRequest& req,
                                 v1::EnrollResponse* resp, CallRecord* record) {
  record->probes = static_cast<int>(req.vectors().rows());
  absl::Status status = DoEnroll(req, resp);
  record->gallery_version = resp->version();
  record->entry_ids.assign(resp->entry_ids().begin(), resp->entry_ids().end());
  record->gallery_size = GallerySize(req.gallery());
  record->details["entries"] = resp->entry_ids_size();
  record->details["replayed"] = resp->replayed();
  return status;
}

absl::Status CandorService::Work(const Ctx&, const v1::RemoveRequest& req,
                                 v1::RemoveResponse* resp, CallRecord* record) {
  absl::Status status = DoRemove(req, resp);
  record->gallery_version = resp->version();
  record->entry_ids.assign(resp->removed_entry_ids().begin(),
                           resp->removed_entry_ids().end());
  record->gallery_size = GallerySize(req.gallery());
  record->details["removed"] = resp->removed_entry_ids_size();
  if (req.has_subject_id()) {
    record->details["subject_id"] = req.subject_id();
  }
  return status;
}

}  // namespace candor::api
