#include "server/gallery/wal_writer.h"

#include <utility>

#include "server/gallery/layout.h"
#include "server/gallery/wal_format.h"
#include "server/storage/files.h"

namespace candor::gallery {

absl::StatusOr<std::unique_ptr<WalWriter>> WalWriter::Create(
    storage::Env* env, const std::string& dir, uint64_t seq, int dimension) {
  const std::string path = storage::JoinPath(dir, SegmentFileName(seq));
  if (env->FileExists(path)) {
    return absl::AlreadyExistsError(path + ": segment exists");
  }
  if (auto s = storage::WriteFileAtomically(env, path,
                                            EncodeWalHeader(dimension));
      !s.ok()) {
    return s;
  }
  return OpenForAppend(env, dir, seq, kWalHeaderBytes);
}

absl::StatusOr<std::unique_ptr<WalWriter>> WalWriter::OpenForAppend(
    storage::Env* env, const std::string& dir, uint64_t seq,
    uint64_t valid_bytes) {
  auto file =
      env->NewAppendableFile(storage::JoinPath(dir, SegmentFileName(seq)));
  if (!file.ok()) return file.status();
  return std::unique_ptr<WalWriter>(
      new WalWriter(std::move(*file), seq, valid_bytes));
}

// Closing a segment loses nothing: every record acknowledged was synced.
WalWriter::~WalWriter() { file_->Close().IgnoreError(); }

absl::Status WalWriter::Append(absl::string_view framed_record) {
  absl::Status s = file_->Append(framed_record);
  // Counted even on failure: Truncate() takes the file back.
  size_bytes_ += framed_record.size();
  return s;
}

absl::Status WalWriter::Sync() const { return file_->Sync(); }

absl::Status WalWriter::Truncate(uint64_t size_bytes) {
  if (auto s = file_->Truncate(size_bytes); !s.ok()) return s;
  size_bytes_ = size_bytes;
  return absl::OkStatus();
}

}  // namespace candor::gallery
