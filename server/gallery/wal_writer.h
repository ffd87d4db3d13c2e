// Appends framed records (wal_format.h) to one write-ahead log segment.
// Not thread-safe: WalCommitter serializes appends and syncs.
#ifndef CANDOR_SERVER_GALLERY_WAL_WRITER_H_
#define CANDOR_SERVER_GALLERY_WAL_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/storage/env.h"

namespace candor::gallery {

class WalWriter {
 public:
  // Creates segment `seq` in `dir` with its header (written atomically, so
  // a segment file always has a whole header) and opens it for appending.
  static absl::StatusOr<std::unique_ptr<WalWriter>> Create(
      storage::Env* env, const std::string& dir, uint64_t seq, int dimension);
  // Opens an existing segment whose first `valid_bytes` are good records
  // (the caller has truncated any torn tail).
  static absl::StatusOr<std::unique_ptr<WalWriter>> OpenForAppend(
      storage::Env* env, const std::string& dir, uint64_t seq,
      uint64_t valid_bytes);
  ~WalWriter();
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // write(2)s the record into the page cache; durable only after Sync().
  // On failure part of the record may be in the file (see Truncate).
  absl::Status Append(absl::string_view framed_record);
  // fdatasync(2). Safe to run while another thread appends: it covers at
  // least every append that returned before it started.
  absl::Status Sync() const;
  // Cuts the segment back to `size_bytes` (the end of its last durable
  // record) and makes that durable: what a failed append or sync left
  // after it is gone, and appends continue from there.
  absl::Status Truncate(uint64_t size_bytes);

  uint64_t seq() const { return seq_; }
  const std::string& path() const { return file_->path(); }
  // Bytes in the file, header included (written by Append so far).
  uint64_t size_bytes() const { return size_bytes_; }

 private:
  WalWriter(std::unique_ptr<storage::WritableFile> file, uint64_t seq,
            uint64_t size_bytes)
      : file_(std::move(file)), seq_(seq), size_bytes_(size_bytes) {}
  const std::unique_ptr<storage::WritableFile> file_;
  const uint64_t seq_;
  uint64_t size_bytes_;
};

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_WAL_WRITER_H_
