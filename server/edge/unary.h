// Small helpers of the unary and streaming handlers.
#ifndef CANDOR_SERVER_EDGE_UNARY_H_
#define CANDOR_SERVER_EDGE_UNARY_H_

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace candor::api {

// The call's deadline (absl::InfiniteFuture() when it has none).
inline absl::Time DeadlineOf(const grpc::CallbackServerContext& ctx) {
  return absl::FromChrono(ctx.deadline());
}

}  // namespace candor::api

#endif  // CANDOR_SERVER_EDGE_UNARY_H_
