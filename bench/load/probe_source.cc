#include "bench/load/probe_source.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "bench/common/gaussian_rows.h"
#include "clients/cli/npy.h"

namespace candor::load {

std::vector<float> RandomUnitProbes(int64_t rows, int64_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  return bench::GaussianRowsFrom(rows, dim, rng, /*normalize=*/true);
}

absl::StatusOr<std::vector<v1::SearchRequest>> BuildRequests(
    const ProbeSpec& spec, const SearchOptions& options) {
  FloatMatrix source;
  if (spec.npy_path.empty()) {
    source.rows = spec.batch * spec.distinct_requests;
    source.cols = spec.dim;
    source.values = RandomUnitProbes(source.rows, spec.dim, spec.seed);
  } else {
    absl::StatusOr<FloatMatrix> read = ReadNpy(spec.npy_path);
    if (!read.ok()) return read.status();
    source = *std::move(read);
    if (source.cols != spec.dim || source.rows == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(spec.npy_path, ": ", source.rows, " x ", source.cols,
                       " probes, expected rows of dimension ", spec.dim));
    }
  }
  std::vector<v1::SearchRequest> requests;
  std::vector<float> probes(spec.batch * spec.dim);
  int64_t next_row = 0;
  for (int64_t i = 0; i < spec.distinct_requests; ++i) {
    for (int64_t r = 0; r < spec.batch; ++r) {
      std::copy_n(source.values.begin() + next_row * spec.dim, spec.dim,
                  probes.begin() + r * spec.dim);
      next_row = (next_row + 1) % source.rows;
    }
    absl::StatusOr<v1::SearchRequest> request = Client::BuildSearchRequest(
        spec.gallery, probes, spec.batch, spec.dim, options);
    if (!request.ok()) return request.status();
    requests.push_back(*std::move(request));
  }
  return requests;
}

}  // namespace candor::load
