// Record framing shared by every file that holds checksummed records (the
// write-ahead log and calibration files):
//
//   u32 payload_bytes, u32 crc32(payload), u32 crc32(the 8 bytes before),
//   payload
//
// (little-endian, zlib's CRC-32). The header carries its own checksum so
// that a damaged length is recognised as damage instead of being trusted.
#ifndef CANDOR_SERVER_STORAGE_RECORD_H_
#define CANDOR_SERVER_STORAGE_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace candor::storage {

inline constexpr size_t kRecordHeaderBytes = 12;

// The framed record (header + payload). The payload must be shorter than
// 4 GiB.
std::string FrameRecord(absl::string_view payload);

struct FramedRecord {
  // The payload, when the record is good.
  absl::string_view payload;
  // Bytes the record takes (header + payload) when good.
  size_t bytes = 0;
  // Why the record is unreadable; empty when it is good.
  std::string error;
  // The damage looks like an append that never finished, and nothing
  // follows it: the record runs past the end, or its header is cut short,
  // or its header checksum fails over a zero-filled tail (space the file
  // system allocated for a write that never landed), or its payload
  // checksum fails with the record ending exactly at the end.
  bool torn = false;

  bool ok() const { return error.empty(); }
};

// Reads the record at the start of `bytes` (which runs to the end of the
// file).
FramedRecord ReadFramedRecord(absl::string_view bytes);

}  // namespace candor::storage

#endif  // CANDOR_SERVER_STORAGE_RECORD_H_
