#include "server/telemetry/policy_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/storage/files.h"

namespace candor::telemetry {
namespace {

constexpr char kSuffix[] = ".policy";

}  // namespace

absl::StatusOr<std::unique_ptr<PolicyStore>> PolicyStore::Open(
    const std::string& dir, storage::Env* env) {
  absl::StatusOr<std::vector<storage::KeyedFile>> files =
      storage::OpenKeyedFiles(env, dir, kSuffix);
  if (!files.ok()) return files.status();
  std::unique_ptr<PolicyStore> store(new PolicyStore(dir, env));
  for (const storage::KeyedFile& file : *files) {
    absl::StatusOr<std::string> json = env->ReadFile(file.path);
    absl::StatusOr<Policy> policy =
        json.ok() ? PolicyFromJson(*json) : json.status();
    if (!policy.ok()) {
      return absl::UnavailableError(
          absl::StrCat("gallery policy ", file.path, " cannot be read (",
                       policy.status().message(),
                       "): restore it, or remove it to drop the policy"));
    }
    absl::MutexLock lock(&store->mu_);
    store->policies_[file.key] = *policy;
  }
  return store;
}

std::string PolicyStore::PathOf(const std::string& gallery) const {
  return storage::JoinPath(dir_, absl::StrCat(gallery, kSuffix));
}

Policy PolicyStore::Find(const std::string& gallery) const {
  absl::MutexLock lock(&mu_);
  auto it = policies_.find(gallery);
  return it == policies_.end() ? Policy() : it->second;
}

absl::Status PolicyStore::Save(const std::string& gallery,
                               const Policy& policy) {
  absl::MutexLock saving(&save_mu_);
  if (!dir_.empty()) {
    absl::Status saved = storage::WriteFileAtomically(env_, PathOf(gallery),
                                                      PolicyToJson(policy));
    if (!saved.ok()) return saved;
  }
  absl::MutexLock lock(&mu_);
  policies_[gallery] = policy;
  return absl::OkStatus();
}

void PolicyStore::Forget(const std::string& gallery) {
  {
    absl::MutexLock lock(&mu_);
    if (policies_.erase(gallery) == 0) return;
  }
  if (!dir_.empty()) storage::RemoveKeyedFile(env_, dir_, PathOf(gallery));
}

}  // namespace candor::telemetry
