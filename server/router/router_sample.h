// A self-audit's sample drawn through the router: the gallery's entries
// live on the shards, so the router asks each shard for its share
// (SampleEntries) and puts the shares together with global entry ids.
//
// Wiring, in the router's Calibrate (the calibrator's sample callback,
// telemetry::CalibrationSample):
//
//   backend.sample = [this, name = req.gallery()](uint32_t n, uint64_t seed,
//                                                 absl::Time deadline) {
//     return SampleAcrossShards(*shards_, name, n, seed, deadline);
//   };
//
// called on the thread that holds the call's ScopedForwarding with the
// method "Calibrate": a shard serves a forwarded SampleEntries only for
// Calibrate (security::CallGate::Decide), to a forwarder the policy grants
// SampleEntries (the shipped roles: the router).
//
// Each shard's share is proportional to its size, so every entry of the
// gallery is drawn with (nearly) the same chance, as on a single server;
// the entries drawn are not the ones a single server holding the same
// entries would draw for the seed (its ids differ, and it shuffles all of
// them at once), only as many and as uniformly.
#ifndef CANDOR_SERVER_ROUTER_ROUTER_SAMPLE_H_
#define CANDOR_SERVER_ROUTER_ROUTER_SAMPLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/router/shard_set.h"
#include "server/telemetry/calibrator.h"

namespace candor::router {

// How many of `sample_size` entries each shard gives, for shards holding
// `shard_sizes` live entries: all of them when the gallery holds no more
// than sample_size; else each shard floor(sample_size * size / total), and
// the few left over one each to the shards with the largest remainders
// (the lower index first on a tie). The shares add up to
// min(sample_size, total), and none exceeds its shard's size.
std::vector<uint32_t> AllocateSample(const std::vector<uint64_t>& shard_sizes,
                                     uint32_t sample_size);

// The seed shard `shard` draws its share with: one seed per shard, so that
// shards holding alike entries do not draw alike, and each a fixed
// function of (seed, shard).
uint64_t ShardSampleSeed(uint64_t seed, int shard);

// Draws min(sample_size, gallery size) entries of `gallery` over every
// shard, reproducibly for one seed and one state of the shards: the
// shards' sizes (GetGallery), then each share (SampleEntries), in shard
// order. Entry ids are the router's global ids. A shard that is down makes
// it UNAVAILABLE naming the shard; a shard's refusal (NOT_FOUND,
// PERMISSION_DENIED, RESOURCE_EXHAUSTED) is kept, prefixed with the shard.
absl::StatusOr<std::vector<telemetry::SampledEntry>> SampleAcrossShards(
    const ShardSet& shards, const std::string& gallery, uint32_t sample_size,
    uint64_t seed, absl::Time deadline);

}  // namespace candor::router

#endif  // CANDOR_SERVER_ROUTER_ROUTER_SAMPLE_H_
