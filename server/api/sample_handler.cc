// SampleEntries: a seeded sample of a gallery's live entries with their
// vectors. A router's self-audit draws its sample with it, since the
// entries live on the shards. The gate grants it more narrowly than any
// other method (CallGate::Decide): it is the one call that returns
// embeddings.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "server/api/candor_service.h"

namespace candor::api {
namespace {

// Encoded bytes of one sampled entry besides its vector, at the least: its
// message's tag and length, an entry id and a subject count of one byte
// each with their tags, and a subject id of one byte. A request whose
// vectors alone could not fit is refused with this before any work.
constexpr uint64_t kLeastEntryBytes = 12;

absl::Status ValidateSampleRequest(const v1::SampleEntriesRequest& req,
                                   uint64_t gallery_size, int dimension,
                                   int max_message_bytes) {
  if (req.sample_size() == 0) {
    return absl::InvalidArgumentError("sample_size: must be >= 1");
  }
  const uint64_t rows = std::min<uint64_t>(req.sample_size(), gallery_size);
  const uint64_t per_row =
      static_cast<uint64_t>(dimension) * sizeof(float) + kLeastEntryBytes;
  const uint64_t fit = static_cast<uint64_t>(max_message_bytes) / per_row;
  if (rows > fit) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "sample_size ", req.sample_size(), ": ", rows, " entries of dimension ",
        dimension, " do not fit in one response; at most ", fit,
        " do under --max_message_bytes=", max_message_bytes));
  }
  return absl::OkStatus();
}

// Draws the sample: the live entries in id order, shuffled with the seed,
// the first sample_size kept. (The shuffle's algorithm is the standard
// library's, so one build reproduces a seed.) An entry removed between the
// listing and the copy of its vector is passed over for the next one.
absl::Status DrawSample(const gallery::Gallery& gallery,
                        const v1::SampleEntriesRequest& req,
                        v1::SampleEntriesResponse* resp) {
  std::vector<gallery::EntryMeta> entries = gallery.Entries();
  absl::flat_hash_map<std::string, uint32_t> per_subject;
  for (const auto& e : entries) ++per_subject[e.subject_id];
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  std::mt19937_64 rng(req.seed());
  std::shuffle(entries.begin(), entries.end(), rng);

  const size_t dim = static_cast<size_t>(gallery.dimension());
  const size_t want = std::min<size_t>(entries.size(), req.sample_size());
  std::vector<float> vectors;
  vectors.reserve(want * dim);
  std::vector<float> row(dim);
  for (const gallery::EntryMeta& e : entries) {
    if (static_cast<size_t>(resp->entries_size()) == want) break;
    absl::Status s = gallery.GetVector(e.id, row.data());
    if (absl::IsNotFound(s)) continue;
    if (!s.ok()) return s;
    v1::SampledEntry* out = resp->add_entries();
    out->set_entry_id(e.id);
    out->set_subject_id(e.subject_id);
    out->set_group(e.group);
    out->set_subject_entries(per_subject[e.subject_id]);
    vectors.insert(vectors.end(), row.begin(), row.end());
  }
  v1::Matrix* matrix = resp->mutable_vectors();
  matrix->set_rows(static_cast<uint32_t>(resp->entries_size()));
  matrix->set_cols(static_cast<uint32_t>(dim));
  // Little-endian float32, as every Matrix (candor runs on little-endian
  // hosts only).
  matrix->set_data(std::string(reinterpret_cast<const char*>(vectors.data()),
                               vectors.size() * sizeof(float)));
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* CandorService::SampleEntries(
    grpc::CallbackServerContext* ctx, const v1::SampleEntriesRequest* req,
    v1::SampleEntriesResponse* resp) {
  // Copying a large gallery's listing takes a while: off the callback
  // threads, with the other long reads.
  return ServeBlocking(
      ctx, "SampleEntries", req->gallery(), maintenance_.get(),
      [this, req, resp](CallRecord* record) {
        record->details["sample_size"] = req->sample_size();
        record->details["seed"] = req->seed();
        auto gallery = FindGallery(req->gallery());
        if (!gallery.ok()) return gallery.status();
        const gallery::GalleryInfo info = (*gallery)->Info();
        absl::Status status =
            ValidateSampleRequest(*req, info.size, (*gallery)->dimension(),
                                  options_.limits.max_message_bytes);
        if (!status.ok()) return status;
        v1::SampleEntriesResponse sample;
        status = DrawSample(**gallery, *req, &sample);
        if (!status.ok()) return status;
        // Subject ids and groups are longer than the least counted above.
        if (sample.ByteSizeLong() >
            static_cast<size_t>(options_.limits.max_message_bytes)) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "sample_size ", req->sample_size(), ": the sample takes ",
              sample.ByteSizeLong(), " bytes, over --max_message_bytes=",
              options_.limits.max_message_bytes, "; ask for fewer entries"));
        }
        sample.set_gallery_size(info.size);
        sample.set_gallery_version(info.version);
        record->gallery_version = info.version;
        record->gallery_size = static_cast<int64_t>(info.size);
        record->details["drawn"] = sample.entries_size();
        // The audit record names the entries handed out, never a vector.
        for (const auto& e : sample.entries()) {
          record->entry_ids.push_back(e.entry_id());
        }
        *resp = std::move(sample);
        return absl::OkStatus();
      });
}

}  // namespace candor::api
