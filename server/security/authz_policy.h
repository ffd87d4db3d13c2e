// Per-method authorization from a policy in gRPC's authorization policy
// JSON format (the file gRPC's FileWatcherAuthorizationPolicyProvider
// reads): deny_rules, then allow_rules; a call no rule allows is denied.
//
// Why candor evaluates the policy itself instead of installing gRPC's
// engine: Debian's libgrpc++ 1.51.1 ships the provider's headers but not
// its implementation (the grpcpp_authz library is not in the package, so
// StaticDataAuthorizationPolicyProvider::Create does not link). Even where
// it links, 1.51's engine rejects a call inside the transport, before the
// application sees it, so a denied call could not be recorded in the audit
// log (gRPC's audit loggers came in 1.57), and its principals come only
// from the connection's certificate, so a bearer token's identity could
// not be authorized. The format is gRPC's, so the same file moves to gRPC's
// engine (or a mesh's) unchanged; candor refuses what it does not evaluate
// (request.headers) and any member it does not know, rather than ignoring
// it.
#ifndef CANDOR_SERVER_SECURITY_AUTHZ_POLICY_H_
#define CANDOR_SERVER_SECURITY_AUTHZ_POLICY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace candor::security {

// One parsed policy. Immutable.
class AuthzPolicy {
 public:
  // InvalidArgument naming what is wrong (gRPC's own message for what gRPC
  // refuses).
  static absl::StatusOr<AuthzPolicy> Parse(const std::string& json);

  // Whether `identity` ("" = unauthenticated) may call `path`
  // ("/candor.v1.Candor/Search"). On a denial, `why` names the deny rule
  // that matched, or says that no allow rule did.
  bool Allows(const std::string& identity, const std::string& path,
              std::string* why) const;

  const std::string& name() const { return name_; }

  // gRPC's string patterns: "*" (any non-empty), "prefix*", "*suffix", or
  // an exact string.
  struct Pattern {
    enum class Kind { kAny, kPrefix, kSuffix, kExact } kind = Kind::kExact;
    std::string text;
    bool Matches(const std::string& value) const;
  };
  struct Rule {
    std::string name;
    // Absent source: any caller, authenticated or not. Present: one of the
    // principals must match an authenticated identity.
    bool has_principals = false;
    std::vector<Pattern> principals;
    bool has_paths = false;
    std::vector<Pattern> paths;
    bool Matches(const std::string& identity, const std::string& path) const;
  };

 private:
  std::string name_;
  std::vector<Rule> deny_;
  std::vector<Rule> allow_;
};

// The policy in a file, read again at most every `refresh` and applied when
// its content changed. An edit that does not parse keeps the previous policy and is
// logged as an error.
class AuthzPolicyFile {
 public:
  static absl::StatusOr<std::unique_ptr<AuthzPolicyFile>> Open(
      const std::string& path, absl::Duration refresh);

  // The current policy (reloaded first when due).
  std::shared_ptr<const AuthzPolicy> Current();

 private:
  AuthzPolicyFile(std::string path, absl::Duration refresh)
      : path_(std::move(path)), refresh_(refresh) {}

  const std::string path_;
  const absl::Duration refresh_;
  absl::Mutex mu_;
  std::shared_ptr<const AuthzPolicy> policy_ ABSL_GUARDED_BY(mu_);
  std::string content_ ABSL_GUARDED_BY(mu_);
  absl::Time next_check_ ABSL_GUARDED_BY(mu_);
};

}  // namespace candor::security

#endif  // CANDOR_SERVER_SECURITY_AUTHZ_POLICY_H_
