// Little-endian encoding of the integers, floats and strings that the
// durable files hold (write-ahead log records, snapshots, manifest,
// record framing).
// Strings are a u32 byte length followed by the bytes.
#ifndef CANDOR_SERVER_STORAGE_BYTE_IO_H_
#define CANDOR_SERVER_STORAGE_BYTE_IO_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace candor::storage {

// Appends encoded values to a caller-owned string.
class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}

  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U32(uint32_t v);
  void U64(uint64_t v);
  void I32(int32_t v) { U32(static_cast<uint32_t>(v)); }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void Str(absl::string_view s);
  void Floats(absl::Span<const float> v);
  void Raw(absl::string_view bytes) { out_->append(bytes.data(), bytes.size()); }

 private:
  std::string* out_;
};

// Reads encoded values from a borrowed buffer. Every read past the end
// fails with DataLoss naming `what` (a file and region) and the offset.
class ByteReader {
 public:
  ByteReader(absl::string_view data, std::string what)
      : data_(data), what_(std::move(what)) {}

  absl::Status U8(uint8_t* v);
  absl::Status U32(uint32_t* v);
  absl::Status U64(uint64_t* v);
  absl::Status I32(int32_t* v);
  absl::Status I64(int64_t* v);
  absl::Status Str(std::string* s);
  // Appends n floats to out.
  absl::Status Floats(size_t n, float* out);
  absl::Status Skip(size_t n);

  size_t offset() const { return offset_; }
  size_t remaining() const { return data_.size() - offset_; }

 private:
  absl::Status Need(size_t n) const;
  absl::string_view data_;
  std::string what_;
  size_t offset_ = 0;
};

uint32_t DecodeU32(const char* p);
uint64_t DecodeU64(const char* p);
void EncodeU32(uint32_t v, char* p);

// zlib's CRC-32 of `bytes`, continuing from `crc` (0 to start).
uint32_t Crc32(absl::string_view bytes, uint32_t crc = 0);

}  // namespace candor::storage

#endif  // CANDOR_SERVER_STORAGE_BYTE_IO_H_
