// The probes a load run sends: random unit vectors from a fixed seed, or
// the rows of a .npy file, cut into requests of `batch` rows and built once
// into SearchRequest messages that every call reuses.
#ifndef CANDOR_BENCH_LOAD_PROBE_SOURCE_H_
#define CANDOR_BENCH_LOAD_PROBE_SOURCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "candor/v1/candor.pb.h"
#include "clients/cpp/client.h"

namespace candor::load {

struct ProbeSpec {
  std::string gallery;
  int64_t dim = 0;
  int64_t batch = 1;
  // Distinct requests to build (they are sent round-robin).
  int64_t distinct_requests = 64;
  uint64_t seed = 1;
  // Non-empty: probes come from this .npy (rows are reused cyclically).
  std::string npy_path;
};

// Random unit rows from std::mt19937_64(seed): rows x dim, row-major.
std::vector<float> RandomUnitProbes(int64_t rows, int64_t dim, uint64_t seed);

// The requests to send. InvalidArgument when the .npy's columns differ
// from spec.dim or it has no rows.
absl::StatusOr<std::vector<v1::SearchRequest>> BuildRequests(
    const ProbeSpec& spec, const SearchOptions& options);

}  // namespace candor::load

#endif  // CANDOR_BENCH_LOAD_PROBE_SOURCE_H_
