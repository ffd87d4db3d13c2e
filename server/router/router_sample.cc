#include "server/router/router_sample.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "server/router/fan_out.h"
#include "server/router/placement.h"
#include "server/router/shard_rpcs.h"

namespace candor::router {
namespace {

// SampleEntries as a StartRpc (shard_rpcs.h has the router's other RPCs).
StartRpc<v1::SampleEntriesRequest, v1::SampleEntriesResponse> SampleRpc() {
  return [](v1::Candor::Stub* stub, grpc::ClientContext* ctx,
            const v1::SampleEntriesRequest* req,
            v1::SampleEntriesResponse* resp,
            std::function<void(grpc::Status)> done) {
    stub->async()->SampleEntries(ctx, req, resp, std::move(done));
  };
}

// A shard's reply as entries, or Internal when it does not hold together
// (rows, columns and bytes that do not agree with each other or with the
// other shards' dimension).
absl::Status AppendShare(const Shard& shard,
                         const v1::SampleEntriesResponse& share,
                         uint32_t asked, int* dimension,
                         std::vector<telemetry::SampledEntry>* out) {
  const v1::Matrix& m = share.vectors();
  const size_t rows = static_cast<size_t>(share.entries_size());
  const auto malformed = [&](const std::string& what) {
    return absl::InternalError(absl::StrCat("shard ", shard.name,
                                            ": malformed SampleEntries reply: ",
                                            what));
  };
  if (rows > asked) {
    return malformed(absl::StrCat(rows, " entries for ", asked, " asked"));
  }
  if (rows == 0) return absl::OkStatus();
  if (m.rows() != rows || m.cols() == 0 ||
      m.data().size() != rows * m.cols() * sizeof(float)) {
    return malformed(absl::StrCat(rows, " entries, a ", m.rows(), " x ",
                                  m.cols(), " matrix of ", m.data().size(),
                                  " bytes"));
  }
  if (*dimension == 0) *dimension = static_cast<int>(m.cols());
  if (static_cast<int>(m.cols()) != *dimension) {
    return malformed(absl::StrCat("dimension ", m.cols(), ", another shard's ",
                                  *dimension));
  }
  const size_t dim = m.cols();
  for (size_t i = 0; i < rows; ++i) {
    const v1::SampledEntry& e = share.entries(static_cast<int>(i));
    auto global = GlobalEntryId(shard.index, e.entry_id());
    if (!global.ok()) return global.status();
    telemetry::SampledEntry entry;
    entry.entry_id = *global;
    entry.subject_id = e.subject_id();
    entry.group = e.group();
    // All of a subject's entries are on its shard (placement.h), so the
    // shard's count is the gallery's.
    entry.subject_entries = std::max<int>(1, static_cast<int>(e.subject_entries()));
    entry.vector.resize(dim);
    std::memcpy(entry.vector.data(), m.data().data() + i * dim * sizeof(float),
                dim * sizeof(float));
    out->push_back(std::move(entry));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<uint32_t> AllocateSample(const std::vector<uint64_t>& shard_sizes,
                                     uint32_t sample_size) {
  const size_t n = shard_sizes.size();
  std::vector<uint32_t> shares(n, 0);
  unsigned __int128 total = 0;
  for (uint64_t s : shard_sizes) total += s;
  if (total <= sample_size) {
    for (size_t i = 0; i < n; ++i) {
      shares[i] = static_cast<uint32_t>(shard_sizes[i]);
    }
    return shares;
  }
  // Exact integer quotas: sample_size * size can pass 2^64.
  std::vector<unsigned __int128> remainders(n, 0);
  uint64_t given = 0;
  for (size_t i = 0; i < n; ++i) {
    const unsigned __int128 product =
        static_cast<unsigned __int128>(sample_size) * shard_sizes[i];
    shares[i] = static_cast<uint32_t>(product / total);
    remainders[i] = product % total;
    given += shares[i];
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return remainders[a] > remainders[b];
  });
  // Fewer than n are left, and each goes to a shard with a remainder,
  // which therefore holds more than its floor.
  for (size_t k = 0; given < sample_size && k < n; ++k) {
    ++shares[order[k]];
    ++given;
  }
  return shares;
}

uint64_t ShardSampleSeed(uint64_t seed, int shard) {
  // SplitMix64's finalizer over the seed stepped once per shard index: a
  // bijection of the seed for each shard, and unalike across shards.
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(shard) + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

absl::StatusOr<std::vector<telemetry::SampledEntry>> SampleAcrossShards(
    const ShardSet& shards, const std::string& gallery, uint32_t sample_size,
    uint64_t seed, absl::Time deadline) {
  if (sample_size == 0) {
    return absl::InvalidArgumentError("self_audit.sample_size: must be >= 1");
  }
  v1::GetGalleryRequest get;
  get.set_name(gallery);
  auto sizes = FanOutAndWait<v1::GetGalleryRequest, v1::Gallery>(
      shards, ToEveryShard<v1::GetGalleryRequest, v1::Gallery>(shards, get),
      deadline, rpc::GetGallery());
  absl::Status status = FirstError(shards, sizes);
  if (!status.ok()) return status;
  std::vector<uint64_t> shard_sizes(static_cast<size_t>(shards.size()), 0);
  for (const auto& reply : sizes) {
    shard_sizes[static_cast<size_t>(reply.shard)] = reply.response.size();
  }
  const std::vector<uint32_t> shares = AllocateSample(shard_sizes, sample_size);

  std::vector<ShardCall<v1::SampleEntriesRequest, v1::SampleEntriesResponse>>
      calls;
  for (int i = 0; i < shards.size(); ++i) {
    if (shares[static_cast<size_t>(i)] == 0) continue;
    auto& call = calls.emplace_back();
    call.shard = i;
    call.request.set_gallery(gallery);
    call.request.set_sample_size(shares[static_cast<size_t>(i)]);
    call.request.set_seed(ShardSampleSeed(seed, i));
  }
  auto replies = FanOutAndWait<v1::SampleEntriesRequest,
                               v1::SampleEntriesResponse>(
      shards, std::move(calls), deadline, SampleRpc());
  status = FirstError(shards, replies);
  if (!status.ok()) return status;

  std::vector<telemetry::SampledEntry> sample;
  int dimension = 0;
  // Replies come back in the order the calls were made: shard order.
  for (const auto& reply : replies) {
    status = AppendShare(shards.shard(reply.shard), reply.response,
                         reply.request.sample_size(), &dimension, &sample);
    if (!status.ok()) return status;
  }
  return sample;
}

}  // namespace candor::router
