// One gallery described across shards: what GetGallery and ListGalleries
// answer through the router.
#ifndef CANDOR_SERVER_ROUTER_GALLERY_AGGREGATE_H_
#define CANDOR_SERVER_ROUTER_GALLERY_AGGREGATE_H_

#include <vector>

#include "candor/v1/candor.pb.h"

namespace candor::router {

// From every shard's description of one gallery (at least one):
// - size, subjects, group counts and memory bytes summed (subjects are
//   disjoint across shards: all of a subject's entries are on one shard);
//   bytes per entry recomputed from the sums;
// - version: the sum of the shards' versions. Every shard's version only
//   grows, so the sum grows with every acknowledged write through any
//   router; it is not the count a single server would show;
// - created_at_us the earliest, trained only when every shard is;
// - name, dimension, index and backend from the first.
// policy, calibrated and calibration_stale are left to the caller (they
// are the router's, not the shards').
v1::Gallery AggregateGallery(const std::vector<const v1::Gallery*>& parts);

}  // namespace candor::router

#endif  // CANDOR_SERVER_ROUTER_GALLERY_AGGREGATE_H_
