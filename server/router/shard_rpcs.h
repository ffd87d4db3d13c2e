// The candor.v1 RPCs the router sends to shards, as StartRpc values for
// FanOut (fan_out.h).
#ifndef CANDOR_SERVER_ROUTER_SHARD_RPCS_H_
#define CANDOR_SERVER_ROUTER_SHARD_RPCS_H_

#include <utility>

#include "server/router/fan_out.h"

namespace candor::router::rpc {

// One line per RPC: the stub's async method is overloaded (callback or
// reactor), so it is named in a lambda rather than taken by address.
#define CANDOR_SHARD_RPC(Method, Req, Resp)                     \
  inline StartRpc<v1::Req, v1::Resp> Method() {                 \
    return [](v1::Candor::Stub* stub, grpc::ClientContext* ctx, \
              const v1::Req* req, v1::Resp* resp,               \
              std::function<void(grpc::Status)> done) {         \
      stub->async()->Method(ctx, req, resp, std::move(done));   \
    };                                                          \
  }

CANDOR_SHARD_RPC(CreateGallery, CreateGalleryRequest, Gallery)
CANDOR_SHARD_RPC(GetGallery, GetGalleryRequest, Gallery)
CANDOR_SHARD_RPC(ListGalleries, ListGalleriesRequest, ListGalleriesResponse)
CANDOR_SHARD_RPC(DeleteGallery, DeleteGalleryRequest, DeleteGalleryResponse)
CANDOR_SHARD_RPC(CompactGallery, CompactGalleryRequest, CompactGalleryResponse)
CANDOR_SHARD_RPC(Enroll, EnrollRequest, EnrollResponse)
CANDOR_SHARD_RPC(Remove, RemoveRequest, RemoveResponse)
CANDOR_SHARD_RPC(Search, SearchRequest, SearchResponse)
CANDOR_SHARD_RPC(TrainIndex, TrainIndexRequest, Gallery)
CANDOR_SHARD_RPC(GetStats, GetStatsRequest, Stats)

#undef CANDOR_SHARD_RPC

}  // namespace candor::router::rpc

#endif  // CANDOR_SERVER_ROUTER_SHARD_RPCS_H_
