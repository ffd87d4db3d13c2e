// Write-ahead log segment format (all integers little-endian):
//
//   segment header (16 bytes): magic "CNDRWAL1", u32 format version (1),
//                              u32 dimension
//   records, back to back:     framed as storage/record.h frames them
//                              (u32 payload_bytes, u32 crc32(payload),
//                              u32 crc32(the 8 bytes before), payload)
//   payload, enroll (kind 1):  u8 kind, u64 first_id, u32 count,
//                              str request_id, count x (str subject,
//                              str group), count x dimension f32
//   payload, remove (kind 2):  u8 kind, u32 count, count x u64 entry_id
//   str:                       u32 byte length, bytes
//
// Enrolled ids are first_id .. first_id + count - 1. Each record is one
// acknowledged Enroll or Remove, so replay adds one to the version per
// record. CRC-32 is zlib's. The header carries its own checksum so that a
// damaged length is recognised as damage instead of being trusted.
//
// Reading: at the end of the last segment, a record header cut short, a
// record that runs past the end of the file, a zero-filled tail, or a last
// record whose checksum fails only because its final sectors are zeros is a
// torn write (the process or machine died mid-append, before the record
// was acknowledged): it is dropped, reported (SegmentReadResult::torn_bytes)
// and the segment truncated back to the last good record. A whole last
// record whose checksum fails otherwise, a bad record with data after it,
// or any bad record in an older (sealed) segment is corruption: DataLoss
// naming the file and offset, and the gallery is quarantined, never cut
// back to a shorter history.
#ifndef CANDOR_SERVER_GALLERY_WAL_FORMAT_H_
#define CANDOR_SERVER_GALLERY_WAL_FORMAT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/common/types.h"
#include "server/storage/env.h"
#include "server/storage/record.h"

namespace candor::gallery {

inline constexpr char kWalMagic[] = "CNDRWAL1";
inline constexpr uint32_t kWalFormatVersion = 1;
inline constexpr size_t kWalHeaderBytes = 16;
inline constexpr size_t kRecordHeaderBytes = storage::kRecordHeaderBytes;

struct WalRecord {
  enum class Kind : uint8_t { kEnroll = 1, kRemove = 2 };
  Kind kind = Kind::kEnroll;
  // kEnroll
  EntryId first_id = 0;
  std::string request_id;
  std::vector<std::string> subject_ids;
  std::vector<std::string> groups;  // one per row, "" for none
  std::vector<float> vectors;       // rows x dimension
  // kRemove
  std::vector<EntryId> removed_ids;
};

std::string EncodeWalHeader(int dimension);

// Framed records (header + payload), ready to append. `groups` is empty
// (no labels) or one per row.
std::string EncodeEnrollRecord(EntryId first_id, absl::string_view request_id,
                               const std::vector<std::string>& subject_ids,
                               const std::vector<std::string>& groups,
                               absl::Span<const float> vectors);
std::string EncodeRemoveRecord(absl::Span<const EntryId> ids);

struct SegmentReadResult {
  // Bytes up to the end of the last good record (>= kWalHeaderBytes).
  uint64_t valid_bytes = 0;
  // Bytes after it that were dropped as a torn tail (0 if none).
  uint64_t torn_bytes = 0;
  uint64_t records = 0;
};

// Calls `on_record` for each good record of the segment at `path`, in order,
// with the record's offset. `last_segment` allows a torn tail (see above).
// Errors from `on_record` are returned as they are.
absl::StatusOr<SegmentReadResult> ReadWalSegment(
    storage::Env* env, const std::string& path, int dimension,
    bool last_segment,
    const std::function<absl::Status(const WalRecord&, uint64_t offset)>&
        on_record);

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_WAL_FORMAT_H_
