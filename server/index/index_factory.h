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

struct IndexConfig {
  int dimension = 0;
  IndexType type = IndexType::kFlat;
  // IVF: inverted lists (0 = chosen from the size at training) and the
  // lists visited per probe when a query names none.
  int nlist = 0;
  int default_nprobe = 8;
  Storage storage = Storage::kDefault;
};

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
