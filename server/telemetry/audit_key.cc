#include "server/telemetry/audit_key.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/telemetry/file_io.h"

namespace candor::telemetry {
namespace {

std::string HowToMakeOne(const std::string& path) {
  return absl::StrCat("make one with: openssl rand -hex 32 > ", path,
                      " && chmod 600 ", path);
}

absl::Status WriteAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, "write");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> LoadAuditKey(const std::string& path) {
  absl::StatusOr<std::string> content = ReadFileToString(path);
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

absl::StatusOr<std::string> LoadOrCreateAuditKey(const std::string& path) {
  if (access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
    unsigned char random[32];
    if (RAND_bytes(random, sizeof(random)) != 1) {
      return absl::InternalError("audit key: OpenSSL's RAND_bytes failed");
    }
    const std::string hex = absl::BytesToHexString(absl::string_view(
        reinterpret_cast<const char*>(random), sizeof(random)));
    absl::Status s = WritePrivateFile(path, hex + "\n", /*replace=*/false);
    if (!s.ok() && !absl::IsAlreadyExists(s)) return s;
  }
  return LoadAuditKey(path);
}

absl::Status WritePrivateFile(const std::string& path, absl::string_view bytes,
                              bool replace) {
  // Replacing is the project's one atomic write (it creates files 0600).
  if (replace) {
    return WriteFileAtomically(path,
                               std::string_view(bytes.data(), bytes.size()));
  }
  // Create-only: mkstemp makes the file 0600 under a name no other writer
  // picks, and link, unlike rename, never replaces a file already there.
  std::string tmp = path + ".XXXXXX";
  std::vector<char> name(tmp.begin(), tmp.end());
  name.push_back('\0');
  const int fd = mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0)
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", tmp));
  tmp = name.data();
  absl::Status s = WriteAll(fd, bytes);
  if (s.ok() && fsync(fd) != 0) s = absl::ErrnoToStatus(errno, "fsync");
  close(fd);
  if (s.ok() && link(tmp.c_str(), path.c_str()) != 0) {
    s = errno == EEXIST
            ? absl::AlreadyExistsError(absl::StrCat(path, " exists"))
            : absl::ErrnoToStatus(errno, "link");
  }
  unlink(tmp.c_str());  // the spare name after the link
  if (!s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("cannot write ", path, ": ", s.message()));
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return SyncDirectory(dir.empty() ? "." : dir);
}

}  // namespace candor::telemetry
