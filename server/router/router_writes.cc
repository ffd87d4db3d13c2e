// Enroll and Remove through the router: each row goes to the shard its
// subject hashes to (placement.h), the sub-batches in parallel.
//
// A write that spans shards is atomic per shard, not across them: when one
// shard fails, the others have applied their part. With a request_id the
// caller retries safely: each shard gets `<request_id>/<shard>`, so the
// shards that already applied their part replay it and the rest apply it.
// Remove by ids is all-or-nothing per shard only: an unknown id on one
// shard (NOT_FOUND) leaves the other shards' removals applied.
#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/edge/unary.h"
#include "server/router/matrix_rows.h"
#include "server/router/placement.h"
#include "server/router/router_service.h"
#include "server/router/shard_rpcs.h"

namespace candor::router {
namespace {

// The server's limit on request ids (validation.cc).
constexpr size_t kMaxRequestIdBytes = 128;

// `<id>/<shard>`, or, when that would pass the shard's limit on request
// ids, the SHA-256 of the id in hex followed by `/<shard>` (still one id
// per caller id and shard).
std::string ShardRequestId(const std::string& id, int shard) {
  if (id.empty()) return id;
  std::string suffixed = absl::StrCat(id, "/", shard);
  if (suffixed.size() <= kMaxRequestIdBytes) return suffixed;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(id.data(), id.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::StrCat(absl::BytesToHexString(absl::string_view(
                          reinterpret_cast<const char*>(digest), length)),
                      "/", shard);
}

// Adds what a partly applied write means for a retry.
template <typename Req, typename Resp>
absl::Status WriteError(const ShardSet& shards,
                        const std::vector<ShardCall<Req, Resp>>& calls,
                        bool has_request_id) {
  absl::Status status = FirstError(shards, calls);
  int applied = 0;
  for (const auto& call : calls) applied += call.status.ok() ? 1 : 0;
  if (status.ok() || applied == 0) return status;
  return absl::Status(
      status.code(),
      absl::StrCat(status.message(), " (", applied,
                   " other shard(s) applied "
                   "their part; ",
                   has_request_id ? "retry with the same request_id to finish"
                                  : "a retry without a request_id enrolls "
                                    "their rows again",
                   ")"));
}

}  // namespace

uint64_t RouterService::VersionAfterWrite(const std::string& gallery,
                                          absl::Time deadline,
                                          uint64_t fallback) {
  ForgetSize(gallery);
  auto aggregated = AggregatedGallery(gallery, deadline);
  return aggregated.ok() ? aggregated->version() : fallback;
}

absl::Status RouterService::DoEnroll(const v1::EnrollRequest& req,
                                     absl::Time deadline,
                                     v1::EnrollResponse* resp) {
  if (req.gallery().empty()) {
    return absl::InvalidArgumentError("gallery: name is empty");
  }
  auto rows =
      CheckMatrix(req.vectors(), options_.server.limits.max_batch, "vectors");
  if (!rows.ok()) return rows.status();
  if (req.subject_ids_size() != *rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("subject_ids: ", req.subject_ids_size(), " ids for ",
                     *rows, " rows (need one per row)"));
  }
  if (req.groups_size() != 0 && req.groups_size() != *rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("groups: ", req.groups_size(), " labels for ", *rows,
                     " rows (need none or one per row)"));
  }
  if (req.request_id().size() > kMaxRequestIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id: length ", req.request_id().size(),
                     " is over ", kMaxRequestIdBytes, " bytes"));
  }
  std::vector<std::vector<int>> rows_of(static_cast<size_t>(shards_->size()));
  for (int r = 0; r < *rows; ++r) {
    rows_of[static_cast<size_t>(
                ShardOfSubject(req.subject_ids(r), shards_->size()))]
        .push_back(r);
  }
  std::vector<ShardCall<v1::EnrollRequest, v1::EnrollResponse>> calls;
  for (int s = 0; s < shards_->size(); ++s) {
    const std::vector<int>& mine = rows_of[static_cast<size_t>(s)];
    if (mine.empty()) continue;
    ShardCall<v1::EnrollRequest, v1::EnrollResponse> call;
    call.shard = s;
    call.request.set_gallery(req.gallery());
    *call.request.mutable_vectors() = PickRows(req.vectors(), mine);
    for (int r : mine) {
      call.request.add_subject_ids(req.subject_ids(r));
      if (req.groups_size() > 0) call.request.add_groups(req.groups(r));
    }
    call.request.set_request_id(ShardRequestId(req.request_id(), s));
    calls.push_back(std::move(call));
  }
  auto replies = FanOutAndWait<v1::EnrollRequest, v1::EnrollResponse>(
      *shards_, std::move(calls), ShardDeadline(deadline), rpc::Enroll());
  absl::Status status =
      WriteError(*shards_, replies, !req.request_id().empty());
  ForgetSize(req.gallery());
  if (!status.ok()) return status;

  resp->mutable_entry_ids()->Resize(*rows, 0);
  bool replayed = true;
  uint64_t version_sum = 0;
  for (const auto& reply : replies) {
    const std::vector<int>& mine = rows_of[static_cast<size_t>(reply.shard)];
    if (reply.response.entry_ids_size() != static_cast<int>(mine.size())) {
      return absl::InternalError(absl::StrCat(
          "shard ", reply.shard, " returned ", reply.response.entry_ids_size(),
          " entry ids for ", mine.size(), " rows"));
    }
    for (size_t j = 0; j < mine.size(); ++j) {
      auto id = GlobalEntryId(reply.shard,
                              reply.response.entry_ids(static_cast<int>(j)));
      if (!id.ok()) return id.status();
      resp->set_entry_ids(mine[j], *id);
    }
    replayed = replayed && reply.response.replayed();
    version_sum += reply.response.version();
  }
  resp->set_replayed(replayed);
  resp->set_version(VersionAfterWrite(req.gallery(), deadline, version_sum));
  return absl::OkStatus();
}

absl::Status RouterService::DoRemove(const v1::RemoveRequest& req,
                                     absl::Time deadline,
                                     v1::RemoveResponse* resp) {
  if (req.gallery().empty()) {
    return absl::InvalidArgumentError("gallery: name is empty");
  }
  std::vector<ShardCall<v1::RemoveRequest, v1::RemoveResponse>> calls;
  switch (req.target_case()) {
    case v1::RemoveRequest::kEntryIds: {
      const auto& ids = req.entry_ids().ids();
      if (ids.empty())
        return absl::InvalidArgumentError("entry_ids: no ids given");
      if (ids.size() > options_.server.limits.max_batch) {
        return absl::InvalidArgumentError(absl::StrCat(
            "entry_ids: ", ids.size(), " ids is over the server's maximum of ",
            options_.server.limits.max_batch));
      }
      std::vector<int> call_of(static_cast<size_t>(shards_->size()), -1);
      for (uint64_t global : ids) {
        auto local = SplitEntryId(global, shards_->size());
        if (!local.ok()) return local.status();
        int& c = call_of[static_cast<size_t>(local->shard)];
        if (c < 0) {
          c = static_cast<int>(calls.size());
          calls.emplace_back();
          calls.back().shard = local->shard;
          calls.back().request.set_gallery(req.gallery());
        }
        calls[static_cast<size_t>(c)].request.mutable_entry_ids()->add_ids(
            local->local);
      }
      break;
    }
    case v1::RemoveRequest::kSubjectId:
      if (req.subject_id().empty()) {
        return absl::InvalidArgumentError("subject_id: empty");
      }
      calls.emplace_back();
      calls.back().shard = ShardOfSubject(req.subject_id(), shards_->size());
      calls.back().request = req;
      break;
    default:
      return absl::InvalidArgumentError("target: give entry_ids or subject_id");
  }
  auto replies = FanOutAndWait<v1::RemoveRequest, v1::RemoveResponse>(
      *shards_, std::move(calls), ShardDeadline(deadline), rpc::Remove());
  ForgetSize(req.gallery());
  absl::Status status = FirstError(*shards_, replies);
  if (!status.ok()) return status;
  uint64_t version_sum = 0;
  for (const auto& reply : replies) {
    for (uint64_t local : reply.response.removed_entry_ids()) {
      auto id = GlobalEntryId(reply.shard, local);
      if (!id.ok()) return id.status();
      resp->add_removed_entry_ids(*id);
    }
    version_sum += reply.response.version();
  }
  resp->set_version(VersionAfterWrite(req.gallery(), deadline, version_sum));
  return absl::OkStatus();
}

absl::Status RouterService::Do(const Ctx& ctx, const v1::EnrollRequest& req,
                               v1::EnrollResponse* resp) {
  return DoEnroll(req, api::DeadlineOf(ctx), resp);
}

absl::Status RouterService::Do(const Ctx& ctx, const v1::RemoveRequest& req,
                               v1::RemoveResponse* resp) {
  return DoRemove(req, api::DeadlineOf(ctx), resp);
}

}  // namespace candor::router
