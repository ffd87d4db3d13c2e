// The gallery a candor-bench run searches: created when absent (at the
// dimension and precision asked), filled with random unit rows, and checked
// to hold the precision asked, so that a run never reports figures of a
// precision other than the one it names.
#ifndef CANDOR_BENCH_LOAD_GALLERY_SETUP_H_
#define CANDOR_BENCH_LOAD_GALLERY_SETUP_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "candor/v1/candor.pb.h"
#include "clients/cpp/client.h"

namespace candor::load {

struct GallerySpec {
  std::string name;
  // Needed to create the gallery or enroll into it.
  int64_t dim = 0;
  // PRECISION_UNSPECIFIED: a created gallery gets the server's default
  // (fp32) and an existing one may hold either precision.
  v1::Precision precision = v1::PRECISION_UNSPECIFIED;
  // Random unit rows to enroll (RandomUnitProbes from `seed`, in chunks).
  // 0: the gallery must exist; nothing is created or enrolled.
  int64_t enroll = 0;
  uint64_t seed = 1;
};

// "fp32" or "bf16"; "" is PRECISION_UNSPECIFIED. InvalidArgument otherwise.
absl::StatusOr<v1::Precision> ParsePrecision(absl::string_view name);

// "fp32", "bf16", or "unspecified": the server did not say (a candor
// server always does; a router's GetGallery does not carry it).
std::string PrecisionName(v1::Precision precision);

// OK when `wanted` is PRECISION_UNSPECIFIED or is the gallery's precision;
// FailedPrecondition naming both otherwise.
absl::Status CheckPrecision(const v1::Gallery& gallery, v1::Precision wanted);

// Creates the gallery when absent and spec.enroll > 0, checks its
// precision, then enrolls spec.enroll rows. Returns the gallery as the
// server described it before the enrollment (name, dimension, precision).
absl::StatusOr<v1::Gallery> PrepareGallery(Client& client,
                                           const GallerySpec& spec);

}  // namespace candor::load

#endif  // CANDOR_BENCH_LOAD_GALLERY_SETUP_H_
