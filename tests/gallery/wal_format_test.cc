// Write-ahead log segments: records round-trip, a torn final record is
// dropped wherever it was cut, and damage before the tail is DataLoss.
#include "server/gallery/wal_format.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/storage/byte_io.h"
#include "tests/gallery/test_util.h"

namespace candor::gallery {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ReadAll;
using testing::ScratchDir;
using testing::WriteAll;

constexpr int kDim = 4;

struct Segment {
  std::string bytes;
  std::vector<size_t> record_offsets;
};

// Header + enroll(2 rows) + remove + enroll(1 row, request id).
Segment MakeSegment() {
  Segment s;
  s.bytes = EncodeWalHeader(kDim);
  auto add = [&s](const std::string& record) {
    s.record_offsets.push_back(s.bytes.size());
    s.bytes += record;
  };
  add(EncodeEnrollRecord(1, "", {"alice", "bob"}, {"g1", ""},
                         testing::RandomUnitRows(2, kDim, 1)));
  add(EncodeRemoveRecord(std::vector<EntryId>{2}));
  add(EncodeEnrollRecord(3, "req-7", {"carol"}, {},
                         testing::RandomUnitRows(1, kDim, 2)));
  return s;
}

struct Read {
  absl::StatusOr<SegmentReadResult> result;
  std::vector<WalRecord> records;
  std::vector<uint64_t> offsets;
};

Read ReadSegment(const std::string& path, bool last = true) {
  Read r;
  r.result = ReadWalSegment(storage::Env::Default(), path, kDim, last,
                            [&r](const WalRecord& rec, uint64_t offset) {
                              r.records.push_back(rec);
                              r.offsets.push_back(offset);
                              return absl::OkStatus();
                            });
  return r;
}

TEST(WalFormatTest, RecordsRoundTrip) {
  ScratchDir dir;
  const std::string path = dir.path() + "/seg";
  const Segment seg = MakeSegment();
  WriteAll(path, seg.bytes);

  Read r = ReadSegment(path);
  ASSERT_TRUE(r.result.ok()) << r.result.status();
  EXPECT_EQ(r.result->valid_bytes, seg.bytes.size());
  EXPECT_EQ(r.result->torn_bytes, 0u);
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_THAT(r.offsets, ElementsAre(seg.record_offsets[0],
                                     seg.record_offsets[1],
                                     seg.record_offsets[2]));

  const WalRecord& a = r.records[0];
  EXPECT_EQ(a.kind, WalRecord::Kind::kEnroll);
  EXPECT_EQ(a.first_id, 1u);
  EXPECT_EQ(a.request_id, "");
  EXPECT_THAT(a.subject_ids, ElementsAre("alice", "bob"));
  EXPECT_THAT(a.groups, ElementsAre("g1", ""));
  EXPECT_EQ(a.vectors, testing::RandomUnitRows(2, kDim, 1));

  EXPECT_EQ(r.records[1].kind, WalRecord::Kind::kRemove);
  EXPECT_THAT(r.records[1].removed_ids, ElementsAre(2u));

  const WalRecord& c = r.records[2];
  EXPECT_EQ(c.first_id, 3u);
  EXPECT_EQ(c.request_id, "req-7");
  EXPECT_THAT(c.groups, ElementsAre(""));
  EXPECT_EQ(c.vectors, testing::RandomUnitRows(1, kDim, 2));
}

TEST(WalFormatTest, HeaderMatchesDocumentedLayout) {
  const std::string h = EncodeWalHeader(512);
  ASSERT_EQ(h.size(), kWalHeaderBytes);
  EXPECT_EQ(h.substr(0, 8), "CNDRWAL1");
  EXPECT_EQ(storage::DecodeU32(h.data() + 8), kWalFormatVersion);
  EXPECT_EQ(storage::DecodeU32(h.data() + 12), 512u);
  // The record header's checksums are zlib's CRC-32 (check value of the
  // standard test vector).
  EXPECT_EQ(storage::Crc32("123456789"), 0xCBF43926u);
  const std::string rec = EncodeRemoveRecord(std::vector<EntryId>{9});
  EXPECT_EQ(storage::DecodeU32(rec.data()), rec.size() - kRecordHeaderBytes);
  EXPECT_EQ(storage::DecodeU32(rec.data() + 4),
            storage::Crc32(absl::string_view(rec).substr(kRecordHeaderBytes)));
}

TEST(WalFormatTest, TornTailAtEveryOffsetIsDropped) {
  ScratchDir dir;
  const std::string path = dir.path() + "/seg";
  const Segment seg = MakeSegment();
  const size_t last_start = seg.record_offsets.back();
  for (size_t cut = last_start; cut < seg.bytes.size(); ++cut) {
    WriteAll(path, seg.bytes.substr(0, cut));
    Read r = ReadSegment(path);
    ASSERT_TRUE(r.result.ok()) << "cut at " << cut << ": " << r.result.status();
    EXPECT_EQ(r.records.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(r.result->valid_bytes, last_start) << "cut at " << cut;
    EXPECT_EQ(r.result->torn_bytes, cut - last_start) << "cut at " << cut;
    EXPECT_EQ(r.records[0].vectors, testing::RandomUnitRows(2, kDim, 1));
  }
}

// A whole last record that fails its checksum was written, maybe
// acknowledged: damage, never dropped as if torn.
TEST(WalFormatTest, DamagedFinalRecordIsDataLoss) {
  ScratchDir dir;
  const std::string path = dir.path() + "/seg";
  Segment seg = MakeSegment();
  seg.bytes[seg.bytes.size() - 3] ^= 0x40;  // inside the last vector
  WriteAll(path, seg.bytes);
  Read r = ReadSegment(path);
  ASSERT_EQ(r.result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.result.status().message()),
              ::testing::HasSubstr(absl::StrCat(
                  "offset ", seg.record_offsets.back(),
                  ": record checksum mismatch")));
}

TEST(WalFormatTest, ZeroFilledTailIsDroppedAsTorn) {
  ScratchDir dir;
  const std::string path = dir.path() + "/seg";
  Segment seg = MakeSegment();
  seg.bytes += std::string(100, '\0');
  WriteAll(path, seg.bytes);
  Read r = ReadSegment(path);
  ASSERT_TRUE(r.result.ok()) << r.result.status();
  EXPECT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.result->torn_bytes, 100u);
}

// Every byte of the middle record, damaged, is reported as DataLoss with
// the file and the record's offset: never skipped, never misread.
TEST(WalFormatTest, DamageInTheMiddleIsDataLoss) {
  ScratchDir dir;
  const std::string path = dir.path() + "/seg";
  const Segment seg = MakeSegment();
  const size_t begin = seg.record_offsets[1];
  const size_t end = seg.record_offsets[2];
  for (size_t pos = begin; pos < end; ++pos) {
    std::string bytes = seg.bytes;
    bytes[pos] ^= 0x01;
    WriteAll(path, bytes);
    Read r = ReadSegment(path);
    ASSERT_FALSE(r.result.ok()) << "flip at " << pos;
    EXPECT_EQ(r.result.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(r.result.status().message(), HasSubstr(path));
    EXPECT_THAT(r.result.status().message(),
                HasSubstr("offset " + std::to_string(begin)));
    EXPECT_LE(r.records.size(), 1u);
  }
}

TEST(WalFormatTest, TornTailOfASealedSegmentIsDataLoss) {
  ScratchDir dir;
  const std::string path = dir.path() + "/seg";
  const Segment seg = MakeSegment();
  WriteAll(path, seg.bytes.substr(0, seg.bytes.size() - 1));
  Read r = ReadSegment(path, /*last=*/false);
  ASSERT_FALSE(r.result.ok());
  EXPECT_EQ(r.result.status().code(), absl::StatusCode::kDataLoss);
}

TEST(WalFormatTest, WrongDimensionOrMagicIsDataLoss) {
  ScratchDir dir;
  const std::string path = dir.path() + "/seg";
  WriteAll(path, EncodeWalHeader(kDim + 1));
  EXPECT_EQ(ReadSegment(path).result.status().code(),
            absl::StatusCode::kDataLoss);
  WriteAll(path, "NOTAWAL!xxxxxxxx");
  EXPECT_EQ(ReadSegment(path).result.status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace candor::gallery
