// The POSIX Env.
#include "server/storage/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "server/storage/files.h"

namespace candor::storage {
namespace {

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

// Closes a descriptor on scope exit unless Close() reported first.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }
  // Hands the descriptor to the caller, who closes it.
  int Release() { return std::exchange(fd_, -1); }
  // Closes now and reports the error (close can surface a failed write).
  absl::Status Close(const std::string& path) {
    const int fd = std::exchange(fd_, -1);
    if (close(fd) != 0) return ErrnoStatus("close", path, errno);
    return absl::OkStatus();
  }

 private:
  int fd_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path)
      : fd_(fd), path_(std::move(path)) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) close(fd_);
  }

  absl::Status Append(absl::string_view data) override {
    if (fd_ < 0) return Closed();
    return WriteAll(fd_, data.data(), data.size(), path_);
  }
  absl::Status Sync() override {
    if (fd_ < 0) return Closed();
    if (fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_, errno);
    return absl::OkStatus();
  }
  absl::Status Truncate(uint64_t size) override {
    if (fd_ < 0) return Closed();
    if (ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return ErrnoStatus("truncate", path_, errno);
    }
    if (fsync(fd_) != 0) return ErrnoStatus("fsync", path_, errno);
    return absl::OkStatus();
  }
  absl::Status Close() override {
    if (fd_ < 0) return Closed();
    const int fd = std::exchange(fd_, -1);
    if (close(fd) != 0) return ErrnoStatus("close", path_, errno);
    return absl::OkStatus();
  }
  const std::string& path() const override { return path_; }

 private:
  absl::Status Closed() const {
    return absl::FailedPreconditionError(path_ + ": file already closed");
  }
  int fd_;
  const std::string path_;
};

class PosixMappedFile final : public MappedFile {
 public:
  PosixMappedFile(int fd, void* base, size_t size, std::string path)
      : fd_(fd), base_(base), size_(size), path_(std::move(path)) {}
  ~PosixMappedFile() override {
    if (size_ > 0) munmap(base_, size_);
    close(fd_);
  }
  absl::string_view bytes() const override {
    return absl::string_view(static_cast<const char*>(base_), size_);
  }
  const std::string& path() const override { return path_; }
  void ReleasePages() const override {
    posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED);
  }

 private:
  const int fd_;  // kept open for ReleasePages
  void* const base_;
  const size_t size_;
  const std::string path_;
};

class PosixEnv final : public Env {
 public:
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) override {
    // O_APPEND: after Truncate, appends continue at the new end.
    const int fd = open(path.c_str(),
                        O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                        0600);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(fd, path));
  }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) override {
    const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(fd, path));
  }

  absl::StatusOr<std::string> ReadFile(const std::string& path) override {
    ScopedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return ErrnoStatus("open", path, errno);
    struct stat st;
    if (fstat(fd.get(), &st) != 0) return ErrnoStatus("stat", path, errno);
    // The size is a hint: a file that grows meanwhile is read to its end.
    std::string out(static_cast<size_t>(st.st_size) + 1, '\0');
    size_t done = 0;
    while (true) {
      if (done == out.size()) out.resize(out.size() * 2);
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

  absl::StatusOr<std::shared_ptr<const MappedFile>> MapFile(
      const std::string& path) override {
    ScopedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return ErrnoStatus("open", path, errno);
    struct stat st;
    if (fstat(fd.get(), &st) != 0) return ErrnoStatus("stat", path, errno);
    const size_t size = static_cast<size_t>(st.st_size);
    void* base = nullptr;
    if (size > 0) {
      base = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
      if (base == MAP_FAILED) return ErrnoStatus("mmap", path, errno);
    }
    return std::shared_ptr<const MappedFile>(
        new PosixMappedFile(fd.Release(), base, size, path));
  }

  absl::StatusOr<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  bool FileExists(const std::string& path) override {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
  }

  bool IsDirectory(const std::string& path) override {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& dir) override {
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

  absl::Status RenameFile(const std::string& from,
                          const std::string& to) override {
    if (rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("rename", from + " to " + to, errno);
    }
    return absl::OkStatus();
  }

  absl::Status LinkFile(const std::string& from,
                        const std::string& to) override {
    if (link(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("link", from + " to " + to, errno);
    }
    return absl::OkStatus();
  }

  absl::Status SyncDir(const std::string& dir) override {
    ScopedFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return ErrnoStatus("open", dir, errno);
    if (fsync(fd.get()) != 0) return ErrnoStatus("fsync", dir, errno);
    return fd.Close(dir);
  }

  absl::Status RemoveFile(const std::string& path) override {
    if (unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
    return absl::OkStatus();
  }

  absl::Status EraseFile(const std::string& path) override {
    {
      ScopedFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
      if (fd.get() < 0) return ErrnoStatus("open", path, errno);
      struct stat st;
      if (fstat(fd.get(), &st) != 0) return ErrnoStatus("stat", path, errno);
      // 1 MiB of zeros per write: few syscalls, little memory.
      static const std::string* const kZeros =
          new std::string(size_t{1} << 20, '\0');
      uint64_t left = static_cast<uint64_t>(st.st_size);
      while (left > 0) {
        const size_t n =
            static_cast<size_t>(std::min<uint64_t>(left, kZeros->size()));
        if (auto s = WriteAll(fd.get(), kZeros->data(), n, path); !s.ok()) {
          return s;
        }
        left -= n;
      }
      if (fsync(fd.get()) != 0) return ErrnoStatus("fsync", path, errno);
      if (auto s = fd.Close(path); !s.ok()) return s;
    }
    return RemoveFile(path);
  }

  absl::Status TruncateFile(const std::string& path, uint64_t size) override {
    ScopedFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd.get() < 0) return ErrnoStatus("open", path, errno);
    if (ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
      return ErrnoStatus("truncate", path, errno);
    }
    if (fsync(fd.get()) != 0) return ErrnoStatus("fsync", path, errno);
    return fd.Close(path);
  }

  absl::Status CreateDir(const std::string& dir) override {
    if (mkdir(dir.c_str(), 0700) != 0) return ErrnoStatus("mkdir", dir, errno);
    return absl::OkStatus();
  }

  absl::Status RemoveDir(const std::string& dir) override {
    if (rmdir(dir.c_str()) != 0) return ErrnoStatus("rmdir", dir, errno);
    return absl::OkStatus();
  }
};

}  // namespace

Env* Env::Default() {
  static Env* const env = new PosixEnv();
  return env;
}

}  // namespace candor::storage
