#include "server/storage/files.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace candor::storage {

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  if (!dir.empty() && dir.back() == '/') return absl::StrCat(dir, name);
  return absl::StrCat(dir, "/", name);
}

std::string ParentDir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status ErrnoStatus(absl::string_view op, absl::string_view path,
                         int err) {
  std::string msg = absl::StrCat(op, " ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EEXIST:
      return absl::AlreadyExistsError(msg);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::Status WriteFileAtomically(Env* env, const std::string& path,
                                 absl::string_view contents) {
  return WriteFileAtomically(
      env, path, [contents](WritableFile* f) { return f->Append(contents); });
}

absl::Status WriteFileAtomically(
    Env* env, const std::string& path,
    const std::function<absl::Status(WritableFile*)>& write) {
  const std::string tmp = path + kTmpSuffix;
  absl::Status status;
  {
    auto file = env->NewWritableFile(tmp);
    if (!file.ok()) return file.status();
    status = write(file->get());
    if (status.ok()) status = (*file)->Sync();
    if (status.ok()) status = (*file)->Close();
  }
  if (status.ok()) status = env->RenameFile(tmp, path);
  if (!status.ok()) {
    // The half-written copy must not outlive the failure (it may hold
    // vectors); when even this fails, the next compaction or open erases it.
    env->EraseFile(tmp).IgnoreError();
    return status;
  }
  return env->SyncDir(ParentDir(path));
}

absl::Status MakeDirs(Env* env, const std::string& dir) {
  if (dir.empty() || env->IsDirectory(dir)) return absl::OkStatus();
  const std::string parent = ParentDir(dir);
  if (parent != dir) {
    if (auto s = MakeDirs(env, parent); !s.ok()) return s;
  }
  absl::Status s = env->CreateDir(dir);
  if (absl::IsAlreadyExists(s)) return absl::OkStatus();
  return s;
}

absl::Status EraseDirectory(Env* env, const std::string& dir) {
  auto names = env->ListDir(dir);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    const std::string path = JoinPath(dir, name);
    absl::Status s = env->IsDirectory(path) ? EraseDirectory(env, path)
                                            : env->EraseFile(path);
    if (!s.ok()) return s;
  }
  if (auto s = env->RemoveDir(dir); !s.ok()) return s;
  return env->SyncDir(ParentDir(dir));
}

absl::StatusOr<uint64_t> DirSizeBytes(Env* env, const std::string& dir) {
  auto names = env->ListDir(dir);
  if (!names.ok()) return names.status();
  uint64_t total = 0;
  for (const std::string& name : *names) {
    const std::string path = JoinPath(dir, name);
    if (env->IsDirectory(path)) continue;
    // A file erased meanwhile counts as nothing.
    if (auto size = env->FileSize(path); size.ok()) total += *size;
  }
  return total;
}

absl::StatusOr<int> EraseTmpFiles(Env* env, const std::string& dir) {
  auto names = env->ListDir(dir);
  if (!names.ok()) return names.status();
  int erased = 0;
  for (const std::string& name : *names) {
    if (!absl::EndsWith(name, kTmpSuffix)) continue;
    if (auto s = env->EraseFile(JoinPath(dir, name)); !s.ok()) return s;
    ++erased;
  }
  if (erased > 0) {
    if (auto s = env->SyncDir(dir); !s.ok()) return s;
  }
  return erased;
}

absl::StatusOr<std::vector<KeyedFile>> OpenKeyedFiles(
    Env* env, const std::string& dir, absl::string_view suffix) {
  if (absl::Status s = MakeDirs(env, dir); !s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", dir, ": ", s.message()));
  }
  absl::StatusOr<std::vector<std::string>> names = env->ListDir(dir);
  if (!names.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot read ", dir, ": ", names.status().message()));
  }
  std::vector<KeyedFile> files;
  for (const std::string& name : *names) {
    if (!absl::EndsWith(name, suffix)) continue;
    files.push_back({std::string(absl::StripSuffix(name, suffix)),
                     JoinPath(dir, name)});
  }
  return files;
}

void RemoveKeyedFile(Env* env, const std::string& dir,
                     const std::string& path) {
  if (env->RemoveFile(path).ok()) env->SyncDir(dir).IgnoreError();
}

}  // namespace candor::storage
