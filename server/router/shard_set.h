// The shards a router fans out to: one gRPC channel and stub per shard, in
// a fixed order. The order IS the placement (placement.h hashes subjects to
// an index, and global entry ids carry it), so it must be the same in every
// router and across restarts: list --shards in one order everywhere, or use
// --shards_dns, whose StatefulSet ordinals give it.
#ifndef CANDOR_SERVER_ROUTER_SHARD_SET_H_
#define CANDOR_SERVER_ROUTER_SHARD_SET_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "candor/v1/candor.grpc.pb.h"
#include "grpcpp/security/credentials.h"

namespace candor::router {

struct Shard {
  int index = 0;
  // The address it was given (host:port); names the shard in errors and in
  // SearchResponse.missing_shards.
  std::string name;
  std::unique_ptr<v1::Candor::Stub> stub;
};

class ShardSet {
 public:
  // One channel per address. A host name is resolved by gRPC's own DNS
  // resolver, again whenever the connection drops, so a shard pod that
  // comes back with a new IP is found under its stable name.
  // `credentials`: plaintext, or mTLS with the router's certificate
  // (security::MakeShardChannelCredentials).
  ShardSet(const std::vector<std::string>& addresses, int max_message_bytes,
           std::shared_ptr<grpc::ChannelCredentials> credentials =
               grpc::InsecureChannelCredentials(),
           bool mtls = false);

  int size() const { return static_cast<int>(shards_.size()); }
  // Whether the shards are called over mTLS (they know the router by its
  // certificate).
  bool mtls() const { return mtls_; }
  const Shard& shard(int i) const { return shards_[static_cast<size_t>(i)]; }

 private:
  std::vector<Shard> shards_;
  bool mtls_ = false;
};

// A shard's failed reply as the router's answer. A shard that is down or
// missed its deadline (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED) is
// UNAVAILABLE naming it; any other code is kept, the message prefixed with
// the shard.
absl::Status ShardError(const Shard& shard, const absl::Status& status);
bool IsShardDown(const absl::Status& status);

// Splits "a:1,b:2" into addresses; InvalidArgument for an empty list, an
// empty item or one without a port.
absl::StatusOr<std::vector<std::string>> ParseShardList(
    const std::string& text);

}  // namespace candor::router

#endif  // CANDOR_SERVER_ROUTER_SHARD_SET_H_
