#include "server/security/call_gate.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/log.h"

namespace candor::security {
namespace {

constexpr char kBearerPrefix[] = "Bearer ";

std::string Metadata(const grpc::ServerContextBase& ctx, const char* key) {
  const auto& metadata = ctx.client_metadata();
  auto it = metadata.find(key);
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

// A peer on this host: gRPC names it "ipv4:127.x.x.x:port",
// "ipv6:[::1]:port" (or the v4-mapped form) or "unix:path".
bool IsLoopbackPeer(const std::string& peer) {
  return absl::StartsWith(peer, "ipv4:127.") ||
         absl::StartsWith(peer, "ipv6:[::1]:") ||
         absl::StartsWith(peer, "ipv6:[::ffff:127.") ||
         absl::StartsWith(peer, "unix:");
}

}  // namespace

CallGate::CallGate(const SecurityOptions& options)
    : tls_(options.tls()),
      require_identity_(!options.tls_client_ca.empty() ||
                        !options.token_file.empty()),
      trusted_forwarders_(options.trusted_forwarders.begin(),
                          options.trusted_forwarders.end()) {}

absl::StatusOr<std::unique_ptr<CallGate>> CallGate::Create(
    const SecurityOptions& options) {
  std::unique_ptr<CallGate> gate(new CallGate(options));
  if (!options.token_file.empty()) {
    auto tokens = TokenStore::Open(options.token_file);
    if (!tokens.ok()) return tokens.status();
    gate->tokens_ = *std::move(tokens);
  }
  if (!options.authz_policy.empty()) {
    if (options.authz_refresh_s <= 0) {
      return absl::InvalidArgumentError("--authz_refresh_s: must be positive");
    }
    auto policy = AuthzPolicyFile::Open(options.authz_policy,
                                        absl::Seconds(options.authz_refresh_s));
    if (!policy.ok()) return policy.status();
    gate->policy_ = *std::move(policy);
  } else if (options.tls()) {
    LogWarning(
        "no --authz_policy: every authenticated caller may call every method "
        "but SampleEntries, which only --trusted_forwarders may");
  }
  if (!gate->trusted_forwarders_.empty()) {
    LogInfo(absl::StrCat("trusted forwarders: ",
                         absl::StrJoin(options.trusted_forwarders, ", ")));
  }
  return gate;
}

absl::Status CallGate::Admit(const grpc::ServerContextBase& ctx,
                             const std::string& method, Caller* caller) const {
  auto auth = ctx.auth_context();
  Request request;
  request.certificate_identity = auth ? CertificateIdentity(*auth) : "";
  request.peer = ctx.peer();
  request.secure_transport = tls_;
  request.authorization = Metadata(ctx, "authorization");
  request.forwarded_identity = Metadata(ctx, kForwardedIdentityKey);
  request.forwarded_peer = Metadata(ctx, kForwardedPeerKey);
  request.forwarded_method = Metadata(ctx, kForwardedMethodKey);
  request.method = method;
  return Decide(request, caller);
}

absl::Status CallGate::Authenticate(const std::string& certificate_identity,
                                    bool secure_transport,
                                    const std::string& authorization,
                                    Caller* caller) const {
  std::string token_identity;
  if (!authorization.empty()) {
    if (!secure_transport) {
      return absl::UnauthenticatedError(
          "bearer tokens are accepted only over TLS");
    }
    if (!absl::StartsWith(authorization, kBearerPrefix)) {
      return absl::UnauthenticatedError(
          "authorization metadata: expected 'Bearer <token>'");
    }
    if (tokens_ == nullptr) {
      return absl::UnauthenticatedError(
          "this server accepts no bearer tokens (no --token_file)");
    }
    auto identity =
        tokens_->Authenticate(authorization.substr(sizeof(kBearerPrefix) - 1));
    if (!identity.ok()) return identity.status();
    token_identity = *std::move(identity);
  }
  // A verified certificate is the stronger proof; a token beside it must
  // still be valid (checked above) but does not replace it.
  if (!certificate_identity.empty()) {
    caller->identity = certificate_identity;
    caller->authenticated_by = "certificate";
  } else if (!token_identity.empty()) {
    caller->identity = token_identity;
    caller->authenticated_by = "token";
  } else if (require_identity_) {
    return absl::UnauthenticatedError(
        "no verified client certificate and no bearer token: this server "
        "authenticates every call");
  }
  return absl::OkStatus();
}

absl::Status CallGate::Decide(const Request& request, Caller* caller) const {
  *caller = Caller();
  caller->peer = request.peer;
  absl::Status status =
      Authenticate(request.certificate_identity, request.secure_transport,
                   request.authorization, caller);
  if (!status.ok()) return status;
  // A forwarded call always names the method the caller invoked; its
  // identity is absent when the router's own caller had none, and then the
  // call is the unauthenticated caller's, never the router's.
  const bool forwarded = !request.forwarded_identity.empty() ||
                         !request.forwarded_method.empty();
  std::string method = request.method;
  if (forwarded) {
    if (caller->identity.empty() ||
        !trusted_forwarders_.contains(caller->identity)) {
      return absl::PermissionDeniedError(absl::StrCat(
          "'", caller->identity.empty() ? "an unauthenticated caller"
                                        : caller->identity,
          "' is not a trusted forwarder (--trusted_forwarders) and may not "
          "call on behalf of another identity"));
    }
    caller->forwarded_by = caller->identity;
    caller->identity = request.forwarded_identity;
    caller->authenticated_by = "forwarded";
    if (!request.forwarded_peer.empty()) {
      caller->peer = absl::StrCat(request.forwarded_peer, " via ", request.peer);
    }
    if (!request.forwarded_method.empty()) method = request.forwarded_method;
    if (caller->identity.empty() && require_identity_) {
      return absl::UnauthenticatedError(absl::StrCat(
          "'", caller->forwarded_by,
          "' forwarded a call that carries no identity; this server "
          "authenticates every call"));
    }
  }
  if (request.method == kSampleEntriesMethod) {
    status = AdmitSample(request, *caller);
    if (!status.ok()) return status;
  }
  if (policy_ == nullptr) return absl::OkStatus();
  const std::string path = absl::StrCat(kServicePath, method);
  std::string why;
  if (policy_->Current()->Allows(caller->identity, path, &why)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      caller->identity.empty() ? "an unauthenticated caller"
                               : absl::StrCat("'", caller->identity, "'"),
      " may not call ", method, ": ", why));
}

absl::Status CallGate::AdmitSample(const Request& request,
                                  const Caller& caller) const {
  const bool forwarded = !caller.forwarded_by.empty();
  // Whoever receives the vectors: the router itself when it forwards.
  const std::string& holder = forwarded ? caller.forwarded_by : caller.identity;
  const std::string who =
      holder.empty() ? "an unauthenticated caller" : absl::StrCat("'", holder, "'");
  if (forwarded && request.forwarded_method != kSampleForMethod) {
    return absl::PermissionDeniedError(absl::StrCat(
        who, " may draw a sample of entries on behalf of a caller only for ",
        kSampleForMethod, ", not for '", request.forwarded_method, "'"));
  }
  if (policy_ != nullptr) {
    std::string why;
    if (policy_->Current()->Allows(
            holder, absl::StrCat(kServicePath, kSampleEntriesMethod), &why)) {
      return absl::OkStatus();
    }
    return absl::PermissionDeniedError(absl::StrCat(
        who, " may not call ", kSampleEntriesMethod,
        " (it returns embeddings): ", why));
  }
  if (require_identity_) {
    if (!holder.empty() && trusted_forwarders_.contains(holder)) {
      return absl::OkStatus();
    }
    return absl::PermissionDeniedError(absl::StrCat(
        who, " may not call ", kSampleEntriesMethod,
        " (it returns embeddings): without --authz_policy only a trusted "
        "forwarder (--trusted_forwarders) may"));
  }
  // No caller has an identity here; the host's own processes are the
  // operator's.
  if (IsLoopbackPeer(request.peer)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      kSampleEntriesMethod, " (it returns embeddings) from '", request.peer,
      "': a server that identifies no caller (neither --tls_client_ca nor "
      "--token_file) serves it to loopback callers only"));
}

}  // namespace candor::security
