// One accepted search request while it waits in the batcher.
#ifndef CANDOR_SERVER_BATCHING_PENDING_REQUEST_H_
#define CANDOR_SERVER_BATCHING_PENDING_REQUEST_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "server/batching/batcher_options.h"
#include "server/common/types.h"

namespace candor::batching {

struct PendingRequest {
  BatchKey key;
  int dim = 0;
  // queries.size() rows of dim floats, host memory, L2-normalized.
  std::vector<float> probes;
  std::vector<ProbeQuery> queries;
  absl::Time deadline = absl::InfiniteFuture();
  absl::Time enqueued;
  DoneFn done;

  int num_probes() const { return static_cast<int>(queries.size()); }
  int64_t probe_bytes() const {
    return static_cast<int64_t>(probes.size() * sizeof(float));
  }
};

}  // namespace candor::batching

#endif  // CANDOR_SERVER_BATCHING_PENDING_REQUEST_H_
