// Sending one request to several shards at once and collecting their
// replies, with the gRPC callback client API (no thread waits per shard).
#ifndef CANDOR_SERVER_ROUTER_FAN_OUT_H_
#define CANDOR_SERVER_ROUTER_FAN_OUT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "server/router/forwarding.h"
#include "server/router/shard_set.h"

namespace candor::router {

template <typename Req, typename Resp>
struct ShardCall {
  int shard = 0;
  Req request;
  // Filled when the reply arrives.
  absl::Status status;
  Resp response;
};

// How to start one RPC on a stub, e.g.
//   [](v1::Candor::Stub* s, grpc::ClientContext* c, const Req* q, Resp* r,
//      std::function<void(grpc::Status)> f) { s->async()->Search(c, q, r, f); }
template <typename Req, typename Resp>
using StartRpc =
    std::function<void(v1::Candor::Stub*, grpc::ClientContext*, const Req*,
                       Resp*, std::function<void(grpc::Status)>)>;

// Sends every call (each names its shard) with `deadline` and calls `done`
// once with all of them answered, on a gRPC thread (or on this one when
// `calls` is empty).
template <typename Req, typename Resp>
void FanOut(const ShardSet& shards, std::vector<ShardCall<Req, Resp>> calls,
            absl::Time deadline, StartRpc<Req, Resp> start,
            std::function<void(std::vector<ShardCall<Req, Resp>>)> done) {
  struct State {
    std::vector<ShardCall<Req, Resp>> calls;
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
    std::atomic<size_t> pending{0};
    std::function<void(std::vector<ShardCall<Req, Resp>>)> done;
  };
  if (calls.empty()) return done(std::move(calls));
  auto state = std::make_shared<State>();
  state->calls = std::move(calls);
  state->done = std::move(done);
  state->pending = state->calls.size();
  for (size_t i = 0; i < state->calls.size(); ++i) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(absl::ToChronoTime(deadline));
    ScopedForwarding::Apply(ctx.get(), shards.mtls());
    state->contexts.push_back(std::move(ctx));
  }
  for (size_t i = 0; i < state->calls.size(); ++i) {
    ShardCall<Req, Resp>& call = state->calls[i];
    start(shards.shard(call.shard).stub.get(), state->contexts[i].get(),
          &call.request, &call.response, [state, i](grpc::Status status) {
            state->calls[i].status =
                absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                             status.error_message());
            if (--state->pending == 0) state->done(std::move(state->calls));
          });
  }
}

// FanOut, waiting for the replies. For administrative and offline calls on
// a handler thread; the search path uses FanOut.
template <typename Req, typename Resp>
std::vector<ShardCall<Req, Resp>> FanOutAndWait(
    const ShardSet& shards, std::vector<ShardCall<Req, Resp>> calls,
    absl::Time deadline, StartRpc<Req, Resp> start) {
  absl::Notification finished;
  std::vector<ShardCall<Req, Resp>> out;
  FanOut<Req, Resp>(shards, std::move(calls), deadline, std::move(start),
                    [&](std::vector<ShardCall<Req, Resp>> replies) {
                      out = std::move(replies);
                      finished.Notify();
                    });
  finished.WaitForNotification();
  return out;
}

// The same request to every shard.
template <typename Req, typename Resp>
std::vector<ShardCall<Req, Resp>> ToEveryShard(const ShardSet& shards,
                                               const Req& request) {
  std::vector<ShardCall<Req, Resp>> calls(static_cast<size_t>(shards.size()));
  for (int i = 0; i < shards.size(); ++i) {
    calls[static_cast<size_t>(i)].shard = i;
    calls[static_cast<size_t>(i)].request = request;
  }
  return calls;
}

// The error the router answers for a set of replies, OK when all are OK:
// a caller's mistake (any code but a shard being down) first, since
// retrying cannot fix it; else the first shard that is down.
template <typename Req, typename Resp>
absl::Status FirstError(const ShardSet& shards,
                        const std::vector<ShardCall<Req, Resp>>& calls) {
  const ShardCall<Req, Resp>* down = nullptr;
  for (const auto& call : calls) {
    if (call.status.ok()) continue;
    if (!IsShardDown(call.status)) {
      return ShardError(shards.shard(call.shard), call.status);
    }
    if (down == nullptr) down = &call;
  }
  if (down != nullptr)
    return ShardError(shards.shard(down->shard), down->status);
  return absl::OkStatus();
}

}  // namespace candor::router

#endif  // CANDOR_SERVER_ROUTER_FAN_OUT_H_
