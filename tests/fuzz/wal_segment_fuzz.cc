// A write-ahead log segment from untrusted bytes: read as the last segment
// (torn tail allowed) and as an earlier one. Must never crash, hang or read
// out of bounds, and every record it accepts must have the gallery's shape.
#include <cstdlib>

#include "server/gallery/wal_format.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using candor::gallery::ReadWalSegment;
  using candor::gallery::WalRecord;
  constexpr int kDim = 4;
  const std::string path = candor::fuzz::WriteScratch(
      candor::fuzz::ScratchDir() + "/wal-00000000000000000001.log", data, size);
  for (bool last : {true, false}) {
    auto result = ReadWalSegment(
        candor::storage::Env::Default(),
        path, kDim, last, [](const WalRecord& record, uint64_t) {
          // The reader's contract: vectors are rows of kDim floats.
          if (record.vectors.size() % kDim != 0) std::abort();
          const size_t rows = record.vectors.size() / kDim;
          if (record.kind == WalRecord::Kind::kEnroll &&
              (record.subject_ids.size() != rows ||
               (!record.groups.empty() && record.groups.size() != rows))) {
            std::abort();
          }
          return absl::OkStatus();
        });
    if (result.ok() && result->valid_bytes + result->torn_bytes > size) {
      std::abort();
    }
  }
  return 0;
}
