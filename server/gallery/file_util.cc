#include "server/gallery/file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace candor::gallery {
namespace {

// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now and reports the error (close can surface a failed write).
  absl::Status Close(const std::string& path) {
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) return ErrnoStatus("close", path, errno);
    return absl::OkStatus();
  }

 private:
  int fd_;
};

absl::Status WriteAll(int fd, const char* data, size_t n,
                      const std::string& path) {
  while (n > 0) {
    const ssize_t w = write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path, errno);
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

}  // namespace

std::string ParentDir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  if (!dir.empty() && dir.back() == '/') return absl::StrCat(dir, name);
  return absl::StrCat(dir, "/", name);
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

absl::Status FsyncDir(const std::string& dir) {
  Fd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open", dir, errno);
  if (fsync(fd.get()) != 0) return ErrnoStatus("fsync", dir, errno);
  return fd.Close(dir);
}

absl::Status MakeDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0) return ErrnoStatus("mkdir", dir, errno);
  return absl::OkStatus();
}

absl::Status MakeDirs(const std::string& dir) {
  if (dir.empty() || IsDirectory(dir)) return absl::OkStatus();
  const std::string parent = ParentDir(dir);
  if (parent != dir) {
    if (auto s = MakeDirs(parent); !s.ok()) return s;
  }
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus("mkdir", dir, errno);
  }
  return absl::OkStatus();
}

bool PathExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents) {
  const std::string tmp = path + ".tmp";
  {
    Fd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (fd.get() < 0) return ErrnoStatus("open", tmp, errno);
    if (auto s = WriteAll(fd.get(), contents.data(), contents.size(), tmp);
        !s.ok()) {
      return s;
    }
    if (fsync(fd.get()) != 0) return ErrnoStatus("fsync", tmp, errno);
    if (auto s = fd.Close(tmp); !s.ok()) return s;
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return ErrnoStatus("rename", tmp, errno);
  }
  return FsyncDir(ParentDir(path));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open", path, errno);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus("stat", path, errno);
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t r = read(fd.get(), out.data() + done, out.size() - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path, errno);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  out.resize(done);
  return out;
}

absl::StatusOr<uint64_t> FileSizeBytes(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
  return static_cast<uint64_t>(st.st_size);
}

absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus("opendir", dir, errno);
  std::vector<std::string> names;
  while (struct dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<uint64_t> DirSizeBytes(const std::string& dir) {
  auto names = ListDir(dir);
  if (!names.ok()) return names.status();
  uint64_t total = 0;
  for (const std::string& name : *names) {
    struct stat st;
    const std::string path = JoinPath(dir, name);
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      total += static_cast<uint64_t>(st.st_size);
    }
  }
  return total;
}

absl::Status EraseFile(const std::string& path) {
  {
    Fd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd.get() < 0) return ErrnoStatus("open", path, errno);
    struct stat st;
    if (fstat(fd.get(), &st) != 0) return ErrnoStatus("stat", path, errno);
    // 1 MiB of zeros per write: few syscalls, little memory.
    static const std::string kZeros(size_t{1} << 20, '\0');
    uint64_t left = static_cast<uint64_t>(st.st_size);
    while (left > 0) {
      const size_t n =
          static_cast<size_t>(std::min<uint64_t>(left, kZeros.size()));
      if (auto s = WriteAll(fd.get(), kZeros.data(), n, path); !s.ok()) {
        return s;
      }
      left -= n;
    }
    if (fsync(fd.get()) != 0) return ErrnoStatus("fsync", path, errno);
    if (auto s = fd.Close(path); !s.ok()) return s;
  }
  if (unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
  return absl::OkStatus();
}

absl::Status EraseDirectory(const std::string& dir) {
  auto names = ListDir(dir);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    const std::string path = JoinPath(dir, name);
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
    if (S_ISREG(st.st_mode)) {
      if (auto s = EraseFile(path); !s.ok()) return s;
    } else if (S_ISDIR(st.st_mode)) {
      if (auto s = EraseDirectory(path); !s.ok()) return s;
    } else if (unlink(path.c_str()) != 0) {
      return ErrnoStatus("unlink", path, errno);
    }
  }
  if (rmdir(dir.c_str()) != 0) return ErrnoStatus("rmdir", dir, errno);
  return FsyncDir(ParentDir(dir));
}

absl::Status TruncateFile(const std::string& path, uint64_t size_bytes) {
  Fd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open", path, errno);
  if (ftruncate(fd.get(), static_cast<off_t>(size_bytes)) != 0) {
    return ErrnoStatus("truncate", path, errno);
  }
  if (fsync(fd.get()) != 0) return ErrnoStatus("fsync", path, errno);
  return fd.Close(path);
}

}  // namespace candor::gallery
