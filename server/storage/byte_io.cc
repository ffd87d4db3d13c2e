#include "server/storage/byte_io.h"

#include <zlib.h>

#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace candor::storage {

// The formats are little-endian; so are the machines candor runs on
// (x86-64, aarch64), which the static_assert-free memcpy below relies on.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "candor's data files assume a little-endian host"
#endif

uint32_t DecodeU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

uint64_t DecodeU64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

void EncodeU32(uint32_t v, char* p) { std::memcpy(p, &v, sizeof(v)); }

void ByteWriter::U32(uint32_t v) {
  char buf[sizeof(v)];
  EncodeU32(v, buf);
  out_->append(buf, sizeof(buf));
}

void ByteWriter::U64(uint64_t v) {
  char buf[sizeof(v)];
  std::memcpy(buf, &v, sizeof(v));
  out_->append(buf, sizeof(buf));
}

void ByteWriter::Str(absl::string_view s) {
  U32(static_cast<uint32_t>(s.size()));
  Raw(s);
}

void ByteWriter::Floats(absl::Span<const float> v) {
  out_->append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

absl::Status ByteReader::Need(size_t n) const {
  if (n > remaining()) {
    return absl::DataLossError(absl::StrCat(what_, ": truncated at offset ",
                                            offset_, " (need ", n,
                                            " bytes, have ", remaining(), ")"));
  }
  return absl::OkStatus();
}

absl::Status ByteReader::U8(uint8_t* v) {
  if (auto s = Need(1); !s.ok()) return s;
  *v = static_cast<uint8_t>(data_[offset_]);
  offset_ += 1;
  return absl::OkStatus();
}

absl::Status ByteReader::U32(uint32_t* v) {
  if (auto s = Need(4); !s.ok()) return s;
  *v = DecodeU32(data_.data() + offset_);
  offset_ += 4;
  return absl::OkStatus();
}

absl::Status ByteReader::U64(uint64_t* v) {
  if (auto s = Need(8); !s.ok()) return s;
  *v = DecodeU64(data_.data() + offset_);
  offset_ += 8;
  return absl::OkStatus();
}

absl::Status ByteReader::I32(int32_t* v) {
  uint32_t u;
  if (auto s = U32(&u); !s.ok()) return s;
  *v = static_cast<int32_t>(u);
  return absl::OkStatus();
}

absl::Status ByteReader::I64(int64_t* v) {
  uint64_t u;
  if (auto s = U64(&u); !s.ok()) return s;
  *v = static_cast<int64_t>(u);
  return absl::OkStatus();
}

absl::Status ByteReader::Str(std::string* s) {
  uint32_t n;
  if (auto st = U32(&n); !st.ok()) return st;
  if (auto st = Need(n); !st.ok()) return st;
  s->assign(data_.data() + offset_, n);
  offset_ += n;
  return absl::OkStatus();
}

absl::Status ByteReader::Floats(size_t n, float* out) {
  if (n > std::numeric_limits<size_t>::max() / sizeof(float)) {
    return Need(std::numeric_limits<size_t>::max());
  }
  if (auto s = Need(n * sizeof(float)); !s.ok()) return s;
  std::memcpy(out, data_.data() + offset_, n * sizeof(float));
  offset_ += n * sizeof(float);
  return absl::OkStatus();
}

absl::Status ByteReader::Skip(size_t n) {
  if (auto s = Need(n); !s.ok()) return s;
  offset_ += n;
  return absl::OkStatus();
}

uint32_t Crc32(absl::string_view bytes, uint32_t crc) {
  // zlib's crc32 takes a uInt length; feed large buffers in chunks.
  uLong c = crc;
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data());
  size_t left = bytes.size();
  constexpr size_t kChunk = size_t{1} << 30;
  while (left > 0) {
    const size_t n = left < kChunk ? left : kChunk;
    c = crc32(c, p, static_cast<uInt>(n));
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(c);
}

}  // namespace candor::storage
