// Per-gallery policy overrides kept apart from any gallery: a router holds
// no gallery files, yet enforces each gallery's policy over the whole
// sharded gallery, so it keeps them here, one <dir>/<gallery>.policy file
// each (policy JSON, policy.h), written through the storage layer's Env.
// Thread-safe.
#ifndef CANDOR_SERVER_TELEMETRY_POLICY_STORE_H_
#define CANDOR_SERVER_TELEMETRY_POLICY_STORE_H_

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/storage/env.h"
#include "server/telemetry/policy.h"

namespace candor::telemetry {

class PolicyStore {
 public:
  // Memory only.
  PolicyStore() = default;
  // Creates `dir` if needed and loads every <gallery>.policy in it. A file
  // that cannot be read fails the open (Unavailable, naming it): a policy
  // dropped would loosen what the operator asked for, so the role does not
  // start without it. `env` is not owned and outlives the store.
  static absl::StatusOr<std::unique_ptr<PolicyStore>> Open(
      const std::string& dir, storage::Env* env = storage::Env::Default());

  // The gallery's override; an empty policy when it has none.
  Policy Find(const std::string& gallery) const;
  // Writes the file first (with a directory) and keeps the policy only when
  // that worked. Saves run one at a time.
  absl::Status Save(const std::string& gallery, const Policy& policy)
      ABSL_LOCKS_EXCLUDED(save_mu_);
  // Drops it, file included (best effort).
  void Forget(const std::string& gallery);

 private:
  PolicyStore(std::string dir, storage::Env* env)
      : dir_(std::move(dir)), env_(env) {}
  std::string PathOf(const std::string& gallery) const;

  // Empty: memory only.
  const std::string dir_;
  storage::Env* const env_ = storage::Env::Default();
  absl::Mutex save_mu_;
  mutable absl::Mutex mu_;
  std::map<std::string, Policy> policies_ ABSL_GUARDED_BY(mu_);
};

}  // namespace candor::telemetry

#endif  // CANDOR_SERVER_TELEMETRY_POLICY_STORE_H_
