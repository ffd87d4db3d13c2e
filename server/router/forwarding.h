// Whom the router calls its shards for. Every shard call made while a
// ScopedForwarding is alive on this thread carries the original caller's
// identity (and the method the caller invoked at the router) as metadata;
// a shard trusts it only from an identity in its --trusted_forwarders.
//
// A thread-local scope rather than a parameter: every router handler fans
// out through FanOut on the thread that handles the call (or, for a
// stream's later requests, on the thread that starts each one, which sets
// its own scope), and threading the caller through each of the twenty
// fan-out sites would add a parameter to every Do* method for one header.
#ifndef CANDOR_SERVER_ROUTER_FORWARDING_H_
#define CANDOR_SERVER_ROUTER_FORWARDING_H_

#include <string>

#include "grpcpp/client_context.h"
#include "server/security/identity.h"

namespace candor::router {

class ScopedForwarding {
 public:
  ScopedForwarding(const security::Caller& caller, std::string method)
      : previous_(current_) {
    identity_ = caller.identity;
    peer_ = caller.peer;
    method_ = std::move(method);
    current_ = this;
  }
  ~ScopedForwarding() { current_ = previous_; }
  ScopedForwarding(const ScopedForwarding&) = delete;
  ScopedForwarding& operator=(const ScopedForwarding&) = delete;

  // Adds the forwarding metadata of the innermost scope on this thread to
  // a shard call's context (nothing outside any scope). Over mTLS
  // (`shards_know_router`) a caller without identity is forwarded as such
  // (method and peer only), so a shard never takes the call for the
  // router's own; in plaintext the shards know no router identity to take
  // it for, and trust no forwarder, so nothing is sent.
  static void Apply(grpc::ClientContext* ctx, bool shards_know_router) {
    const ScopedForwarding* scope = current_;
    if (scope == nullptr) return;
    if (scope->identity_.empty() && !shards_know_router) return;
    if (!scope->identity_.empty()) {
      ctx->AddMetadata(security::kForwardedIdentityKey, scope->identity_);
    }
    ctx->AddMetadata(security::kForwardedPeerKey, scope->peer_);
    ctx->AddMetadata(security::kForwardedMethodKey, scope->method_);
  }

 private:
  static thread_local const ScopedForwarding* current_;
  const ScopedForwarding* const previous_;
  std::string identity_;
  std::string peer_;
  std::string method_;
};

}  // namespace candor::router

#endif  // CANDOR_SERVER_ROUTER_FORWARDING_H_
