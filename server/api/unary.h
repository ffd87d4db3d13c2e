// Finishing a unary callback RPC from a function returning absl::Status.
#ifndef CANDOR_SERVER_API_UNARY_H_
#define CANDOR_SERVER_API_UNARY_H_

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "server/api/status_util.h"

namespace candor::api {

// Runs fn() on the gRPC thread and finishes the call with its status. For
// work that is short or must block anyway (an fsync'd write).
template <typename Fn>
grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* ctx,
                                     Fn&& fn) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(fn()));
  return reactor;
}

// The call's deadline (absl::InfiniteFuture() when it has none).
inline absl::Time DeadlineOf(const grpc::CallbackServerContext& ctx) {
  return absl::FromChrono(ctx.deadline());
}

// Who called: the authenticated identity when there is one, else the peer.
std::string CallerIdentity(const grpc::CallbackServerContext& ctx);

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_UNARY_H_
