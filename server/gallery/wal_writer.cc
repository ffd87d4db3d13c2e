#include "server/gallery/wal_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "server/gallery/file_util.h"
#include "server/gallery/layout.h"
#include "server/gallery/wal_format.h"

namespace candor::gallery {

absl::StatusOr<std::unique_ptr<WalWriter>> WalWriter::Create(
    const std::string& dir, uint64_t seq, int dimension) {
  const std::string path = JoinPath(dir, SegmentFileName(seq));
  if (PathExists(path)) {
    return absl::AlreadyExistsError(path + ": segment exists");
  }
  if (auto s = WriteFileAtomically(path, EncodeWalHeader(dimension));
      !s.ok()) {
    return s;
  }
  return OpenForAppend(dir, seq, kWalHeaderBytes);
}

absl::StatusOr<std::unique_ptr<WalWriter>> WalWriter::OpenForAppend(
    const std::string& dir, uint64_t seq, uint64_t valid_bytes) {
  std::string path = JoinPath(dir, SegmentFileName(seq));
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  return std::unique_ptr<WalWriter>(
      new WalWriter(fd, seq, std::move(path), valid_bytes));
}

WalWriter::~WalWriter() { close(fd_); }

absl::Status WalWriter::Append(absl::string_view framed_record) {
  const char* p = framed_record.data();
  size_t left = framed_record.size();
  while (left > 0) {
    const ssize_t w = write(fd_, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path_, errno);
    }
    p += w;
    left -= static_cast<size_t>(w);
    size_bytes_ += static_cast<uint64_t>(w);
  }
  return absl::OkStatus();
}

absl::Status WalWriter::Sync() const {
  if (fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_, errno);
  return absl::OkStatus();
}

}  // namespace candor::gallery
