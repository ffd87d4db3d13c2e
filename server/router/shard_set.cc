#include "server/router/shard_set.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "grpcpp/grpcpp.h"

namespace candor::router {
namespace {

// Reconnect quickly to a shard that restarted: gRPC's default backoff grows
// to 120 s, during which every search would be UNAVAILABLE although the
// shard is back. Shards are few and near, so a 1 s ceiling costs nothing.
constexpr int kInitialReconnectBackoffMs = 100;
constexpr int kMaxReconnectBackoffMs = 1000;
// How long one connection attempt may take to complete its HTTP/2
// handshake. gRPC reads GRPC_ARG_MIN_RECONNECT_BACKOFF_MS as this (its
// MIN_CONNECT_TIMEOUT, 20 s by default), not as a backoff: at 100 ms a
// shard busy enough to answer the handshake late failed the attempt, and
// the router's requests with it. A shard that is down refuses at once, so
// a longer timeout does not slow the reconnect loop above.
constexpr int kConnectTimeoutMs = 5000;

}  // namespace

ShardSet::ShardSet(const std::vector<std::string>& addresses,
                   int max_message_bytes,
                   std::shared_ptr<grpc::ChannelCredentials> credentials,
                   bool mtls)
    : mtls_(mtls) {
  for (size_t i = 0; i < addresses.size(); ++i) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(max_message_bytes);
    args.SetMaxSendMessageSize(max_message_bytes);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
                kInitialReconnectBackoffMs);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, kConnectTimeoutMs);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMs);
    Shard shard;
    shard.index = static_cast<int>(i);
    shard.name = addresses[i];
    shard.stub = v1::Candor::NewStub(grpc::CreateCustomChannel(
        addresses[i], credentials, args));
    shards_.push_back(std::move(shard));
  }
}

bool IsShardDown(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsCancelled(status);
}

absl::Status ShardError(const Shard& shard, const absl::Status& status) {
  if (IsShardDown(status)) {
    return absl::UnavailableError(
        absl::StrCat("shard ", shard.index, " (", shard.name,
                     ") is unavailable: ", status.message()));
  }
  return absl::Status(status.code(),
                      absl::StrCat("shard ", shard.index, " (", shard.name,
                                   "): ", status.message()));
}

absl::StatusOr<std::vector<std::string>> ParseShardList(
    const std::string& text) {
  std::vector<std::string> out;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    const size_t colon = item.rfind(':');
    int port = 0;
    if (item.empty() || colon == absl::string_view::npos || colon == 0 ||
        !absl::SimpleAtoi(item.substr(colon + 1), &port) || port <= 0 ||
        port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--shards: '", item, "' is not host:port (in '", text, "')"));
    }
    out.emplace_back(item);
  }
  if (out.empty()) return absl::InvalidArgumentError("--shards: empty list");
  return out;
}

}  // namespace candor::router
