// Chooses and builds an Index for a gallery from its configuration and the
// server's backend choice.
#ifndef CANDOR_SERVER_INDEX_INDEX_FACTORY_H_
#define CANDOR_SERVER_INDEX_INDEX_FACTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/index/index.h"

namespace candor::index {

enum class IndexType { kFlat, kIvfFlat };
enum class Storage { kDefault, kFp32, kFp16 };
// kAuto: candor's GPU backend when a CUDA device is present, else the CPU.
// kCpu: candor's CPU flat index (cpu_flat_index.h); kFaissCpu: FAISS's
// IndexFlatIP, kept selectable for comparison. IVF galleries use FAISS on
// either.
enum class Backend { kAuto, kCpu, kFaissGpu, kGpu, kFaissCpu };

// Precision of the vectors in the CPU flat index: kBf16 holds them as bf16
// and answers exactly as kFp32 does (bf16_flat_index.h). Flat only.
enum class Precision { kFp32, kBf16 };
class Fp32RowSource;  // bf16_flat_index.h

struct IndexConfig {
  int dimension = 0;
  IndexType type = IndexType::kFlat;
  // IVF: inverted lists (0 = chosen from the size at training) and the
  // lists visited per probe when a query names none.
  int nlist = 0;
  int default_nprobe = 8;
  Storage storage = Storage::kDefault;
  Precision precision = Precision::kFp32;
  // kBf16: where the index reads the fp32 rows it rescores (the gallery's
  // copy); null: the index keeps its own. Not persisted, not owned.
  const Fp32RowSource* fp32_rows = nullptr;
};

// "fp32" / "bf16".
absl::StatusOr<Precision> ParsePrecision(const std::string& name);
std::string PrecisionName(Precision precision);

absl::StatusOr<Backend> ParseBackend(const std::string& name);
std::string BackendName(Backend backend);

// The backend `requested` resolves to on this machine (kAuto -> kGpu when a
// device is present and CUDA support is built in, else kCpu). Errors when a
// GPU backend is requested and unavailable.
absl::StatusOr<Backend> ResolveBackend(Backend requested);

absl::StatusOr<std::unique_ptr<Index>> CreateIndex(const IndexConfig& config,
                                                   Backend backend);

}  // namespace candor::index

#endif  // CANDOR_SERVER_INDEX_INDEX_FACTORY_H_
