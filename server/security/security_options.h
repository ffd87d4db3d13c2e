// Who may call: transport security, caller identity, authorization. One
// struct, filled from flags in one place (server/edge/common_flags.cc),
// shared by the server and the router roles.
#ifndef CANDOR_SERVER_SECURITY_SECURITY_OPTIONS_H_
#define CANDOR_SERVER_SECURITY_SECURITY_OPTIONS_H_

#include <string>
#include <vector>

namespace candor::security {

struct SecurityOptions {
  // PEM files of the server's certificate chain and private key. Both or
  // neither; without them the server listens in plaintext, which it does
  // only on a loopback address unless allow_insecure.
  std::string tls_cert;
  std::string tls_key;
  // PEM bundle of the CAs whose client certificates are accepted. When set,
  // the server requests a client certificate and verifies any presented at
  // the handshake; a call that brings neither a verified certificate nor a
  // valid token is refused (UNAUTHENTICATED) before it does anything.
  std::string tls_client_ca;
  // How often the certificate and CA files are read again, so that rotated
  // files (cert-manager renews Secrets in place) apply without a restart.
  int tls_refresh_s = 60;
  // Plaintext on a non-loopback address: only behind a mesh sidecar that
  // terminates mTLS itself. Logged as a warning at start-up.
  bool allow_insecure = false;
  // Lines "<sha256 hex of the token> <identity>"; '#' starts a comment.
  // Tokens arrive as "authorization: Bearer <token>" and only over TLS.
  std::string token_file;
  // gRPC authorization policy JSON (name, allow_rules, deny_rules; sources
  // by principals = caller identities; requests by paths). Empty: every
  // authenticated caller may call every method.
  std::string authz_policy;
  // How often the policy file is checked for edits.
  int authz_refresh_s = 5;
  // Identities (a router's) whose "x-candor-forwarded-identity" metadata
  // names the caller on whose behalf they call.
  std::vector<std::string> trusted_forwarders;
  // Server reflection (grpc.reflection.v1alpha). Health is always served.
  bool reflection = true;

  bool tls() const { return !tls_cert.empty(); }
};

}  // namespace candor::security

#endif  // CANDOR_SERVER_SECURITY_SECURITY_OPTIONS_H_
