#include "server/telemetry/audit_key.h"

#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/storage/files.h"

namespace candor::telemetry {
namespace {

std::string HowToMakeOne(const std::string& path) {
  return absl::StrCat("make one with: openssl rand -hex 32 > ", path,
                      " && chmod 600 ", path);
}

}  // namespace

absl::StatusOr<std::string> LoadAuditKey(const std::string& path,
                                         storage::Env* env) {
  absl::StatusOr<std::string> content = env->ReadFile(path);
  if (!content.ok()) {
    return absl::Status(content.status().code(),
                        absl::StrCat("audit key: ", content.status().message(),
                                     "; ", HowToMakeOne(path)));
  }
  absl::string_view key = absl::StripTrailingAsciiWhitespace(*content);
  if (key.size() < kMinAuditKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "audit key ", path, " holds ", key.size(), " bytes; at least ",
        kMinAuditKeyBytes, " are needed; ", HowToMakeOne(path)));
  }
  return std::string(key);
}

bool KeyFileIsPrivate(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || (st.st_mode & S_IRWXO) != 0) return false;
  // Group bits are harmless when the group is this process's own (a
  // Kubernetes Secret mounted 0440 with the pod's fsGroup).
  return (st.st_mode & S_IRWXG) == 0 || st.st_gid == getegid();
}

absl::StatusOr<std::string> LoadOrCreateAuditKey(const std::string& path,
                                                 storage::Env* env) {
  if (!env->FileExists(path)) {
    unsigned char random[32];
    if (RAND_bytes(random, sizeof(random)) != 1) {
      return absl::InternalError("audit key: OpenSSL's RAND_bytes failed");
    }
    const std::string hex = absl::BytesToHexString(absl::string_view(
        reinterpret_cast<const char*>(random), sizeof(random)));
    absl::Status s = WritePrivateFile(path, hex + "\n", /*replace=*/false, env);
    if (!s.ok() && !absl::IsAlreadyExists(s)) return s;
  }
  return LoadAuditKey(path, env);
}

absl::Status WritePrivateFile(const std::string& path, absl::string_view bytes,
                              bool replace, storage::Env* env) {
  // Replacing is the project's one atomic write (it creates files 0600).
  if (replace) return storage::WriteFileAtomically(env, path, bytes);
  // Create-only: the bytes go durably under a name of this process's own,
  // then link, unlike rename, never replaces a file already there.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = absl::StrCat(
      path, ".", getpid(), ".", counter.fetch_add(1), storage::kTmpSuffix);
  absl::Status s;
  {
    auto file = env->NewWritableFile(tmp);
    if (!file.ok()) {
      return absl::Status(
          file.status().code(),
          absl::StrCat("cannot create ", tmp, ": ", file.status().message()));
    }
    s = (*file)->Append(bytes);
    if (s.ok()) s = (*file)->Sync();
    if (s.ok()) s = (*file)->Close();
  }
  if (s.ok()) {
    s = env->LinkFile(tmp, path);
    if (absl::IsAlreadyExists(s)) {
      s = absl::AlreadyExistsError(absl::StrCat(path, " exists"));
    }
  }
  env->RemoveFile(tmp).IgnoreError();  // the spare name after the link
  if (!s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("cannot write ", path, ": ", s.message()));
  }
  return env->SyncDir(storage::ParentDir(path));
}

}  // namespace candor::telemetry
