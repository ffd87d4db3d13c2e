// Who is calling: the identity a TLS client certificate proves, or a bearer
// token's, or (from a trusted router) the caller it forwards.
#ifndef CANDOR_SERVER_SECURITY_IDENTITY_H_
#define CANDOR_SERVER_SECURITY_IDENTITY_H_

#include <string>

#include "grpcpp/security/auth_context.h"

namespace candor::security {

// Metadata a trusted forwarder (the router) sets to name the caller on
// whose behalf it calls, where that caller connected from, and the method
// it invoked at the forwarder.
inline constexpr char kForwardedIdentityKey[] = "x-candor-forwarded-identity";
inline constexpr char kForwardedPeerKey[] = "x-candor-forwarded-peer";
inline constexpr char kForwardedMethodKey[] = "x-candor-forwarded-method";

struct Caller {
  // The identity the call is authorized and audited as; empty when the
  // call is unauthenticated (plaintext on loopback, or no credential).
  std::string identity;
  // The transport peer ("ipv4:127.0.0.1:40000"), or the forwarded caller's
  // peer as the forwarder saw it.
  std::string peer;
  // How `identity` was established: "certificate", "token", "forwarded",
  // or "none".
  std::string authenticated_by = "none";
  // The forwarder's own identity when authenticated_by == "forwarded".
  std::string forwarded_by;
};

// The identity a verified client certificate proves: its first URI SAN (a
// SPIFFE ID), else its first DNS SAN, else its subject CN. Empty when the
// peer presented no verified certificate.
std::string CertificateIdentity(const grpc::AuthContext& auth);

}  // namespace candor::security

#endif  // CANDOR_SERVER_SECURITY_IDENTITY_H_
