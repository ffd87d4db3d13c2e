// The gate every candor.v1.Candor call passes first: who is calling
// (certificate, bearer token, or a trusted router forwarding its caller),
// and whether the authorization policy lets that identity call the method.
// The gate only decides; the API layer records every decision, refusals
// included, in the audit log before answering.
#ifndef CANDOR_SERVER_SECURITY_CALL_GATE_H_
#define CANDOR_SERVER_SECURITY_CALL_GATE_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "server/security/authz_policy.h"
#include "server/security/identity.h"
#include "server/security/security_options.h"
#include "server/security/token_store.h"

namespace candor::security {

// The gRPC service whose methods the policy's paths name.
inline constexpr char kServicePath[] = "/candor.v1.Candor/";

// The method that hands out a gallery's embeddings (a router's self-audit
// sample). Its grant is narrower than the other methods': see
// CallGate::Decide.
inline constexpr char kSampleEntriesMethod[] = "SampleEntries";
// The one method a trusted forwarder may draw a sample on behalf of.
inline constexpr char kSampleForMethod[] = "Calibrate";

class CallGate {
 public:
  // Loads the token file and the authorization policy named in `options`.
  static absl::StatusOr<std::unique_ptr<CallGate>> Create(
      const SecurityOptions& options);

  // Fills `caller` (as far as it could be established, also on refusal)
  // and returns OK, Unauthenticated (no or bad credential) or
  // PermissionDenied (the policy refuses `method`, e.g. "Search", to this
  // identity; or an untrusted peer tried to forward an identity).
  absl::Status Admit(const grpc::ServerContextBase& ctx,
                     const std::string& method, Caller* caller) const;

  // The same decision from its parts (for tests and the router):
  // `authorization` is the "authorization" metadata ("" when absent),
  // `forwarded_identity` / `forwarded_peer` the forwarding metadata.
  // A trusted forwarder's call is authorized as the forwarded identity
  // calling `forwarded_method` (what the caller invoked at the router, e.g.
  // Calibrate, which the router carries out as Searches) when one is given,
  // else `method`.
  //
  // SampleEntries returns embeddings, so on top of that: the identity that
  // receives them (the forwarder's own, for a forwarded call) must be
  // granted SampleEntries by the policy (the shipped roles: admin and the
  // router); without a policy, it must be a trusted forwarder (the
  // router); and on a server that identifies no caller (neither
  // --tls_client_ca nor --token_file), the call must come from loopback.
  // A forwarded sample is only for a self-audit: its forwarded method must
  // be Calibrate, which the forwarded identity must be granted.
  struct Request {
    std::string certificate_identity;
    std::string peer;
    bool secure_transport = false;
    std::string authorization;
    std::string forwarded_identity;
    std::string forwarded_peer;
    std::string forwarded_method;
    std::string method;
  };
  absl::Status Decide(const Request& request, Caller* caller) const;

 private:
  explicit CallGate(const SecurityOptions& options);

  // The extra conditions on SampleEntries (see Decide); `caller` is the
  // authenticated caller after forwarding.
  absl::Status AdmitSample(const Request& request, const Caller& caller) const;

  absl::Status Authenticate(const std::string& certificate_identity,
                            bool secure_transport,
                            const std::string& authorization,
                            Caller* caller) const;

  const bool tls_;
  // Whether every call must bring a credential (client CAs or tokens are
  // configured).
  const bool require_identity_;
  absl::flat_hash_set<std::string> trusted_forwarders_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<AuthzPolicyFile> policy_;
};

}  // namespace candor::security

#endif  // CANDOR_SERVER_SECURITY_CALL_GATE_H_
