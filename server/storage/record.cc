#include "server/storage/record.h"

#include "server/storage/byte_io.h"

namespace candor::storage {
namespace {

bool AllZero(absl::string_view bytes) {
  for (char c : bytes) {
    if (c != 0) return false;
  }
  return true;
}

}  // namespace

std::string FrameRecord(absl::string_view payload) {
  std::string out(kRecordHeaderBytes, '\0');
  EncodeU32(static_cast<uint32_t>(payload.size()), out.data());
  EncodeU32(Crc32(payload), out.data() + 4);
  EncodeU32(Crc32(absl::string_view(out.data(), 8)), out.data() + 8);
  out.append(payload.data(), payload.size());
  return out;
}

FramedRecord ReadFramedRecord(absl::string_view bytes) {
  FramedRecord r;
  if (bytes.size() < kRecordHeaderBytes) {
    r.error = "truncated record header";
    r.torn = true;
    return r;
  }
  const char* h = bytes.data();
  const uint32_t payload_bytes = DecodeU32(h);
  const size_t left = bytes.size() - kRecordHeaderBytes;
  if (DecodeU32(h + 8) != Crc32(absl::string_view(h, 8))) {
    r.error = "record header checksum mismatch";
    r.torn = AllZero(bytes);
  } else if (payload_bytes > left) {
    r.error = "record runs past the end of the file";
    r.torn = true;
  } else if (DecodeU32(h + 4) !=
             Crc32(bytes.substr(kRecordHeaderBytes, payload_bytes))) {
    r.error = "record checksum mismatch";
    r.torn = payload_bytes == left;
  } else {
    r.payload = bytes.substr(kRecordHeaderBytes, payload_bytes);
    r.bytes = kRecordHeaderBytes + payload_bytes;
  }
  return r;
}

}  // namespace candor::storage
