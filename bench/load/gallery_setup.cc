#include "bench/load/gallery_setup.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/load/probe_source.h"

namespace candor::load {
namespace {

absl::Status Fail(absl::string_view what, const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat(what, ": ", status.message()));
}

}  // namespace

absl::StatusOr<v1::Precision> ParsePrecision(absl::string_view name) {
  if (name.empty()) return v1::PRECISION_UNSPECIFIED;
  if (name == "fp32") return v1::PRECISION_FP32;
  if (name == "bf16") return v1::PRECISION_BF16;
  return absl::InvalidArgumentError(
      absl::StrCat("--precision must be fp32 or bf16, got ", name));
}

std::string PrecisionName(v1::Precision precision) {
  switch (precision) {
    case v1::PRECISION_FP32:
      return "fp32";
    case v1::PRECISION_BF16:
      return "bf16";
    default:
      return "unspecified";
  }
}

absl::Status CheckPrecision(const v1::Gallery& gallery, v1::Precision wanted) {
  if (wanted == v1::PRECISION_UNSPECIFIED || gallery.precision() == wanted) {
    return absl::OkStatus();
  }
  if (gallery.precision() == v1::PRECISION_UNSPECIFIED) {
    return absl::FailedPreconditionError(
        absl::StrCat("gallery ", gallery.name(),
                     ": the server does not say its precision "
                     "(an older server?), so --precision=",
                     PrecisionName(wanted), " cannot be checked"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("gallery ", gallery.name(), " holds ",
                   PrecisionName(gallery.precision()), " vectors, not the ",
                   PrecisionName(wanted), " that --precision asks for"));
}

absl::StatusOr<v1::Gallery> PrepareGallery(Client& client,
                                           const GallerySpec& spec) {
  absl::StatusOr<v1::Gallery> gallery = client.GetGallery(spec.name);
  if (spec.enroll > 0 &&
      gallery.status().code() == absl::StatusCode::kNotFound) {
    v1::CreateGalleryRequest request;
    request.set_name(spec.name);
    request.set_dimension(static_cast<uint32_t>(spec.dim));
    request.set_precision(spec.precision);
    gallery = client.CreateGallery(request);
    if (!gallery.ok()) return Fail("create gallery", gallery.status());
  }
  if (!gallery.ok()) return Fail("get gallery", gallery.status());
  if (absl::Status s = CheckPrecision(*gallery, spec.precision); !s.ok()) {
    return s;
  }
  constexpr int64_t kChunk = 4096;
  for (int64_t first = 0; first < spec.enroll; first += kChunk) {
    const int64_t rows = std::min(kChunk, spec.enroll - first);
    const std::vector<float> vectors =
        RandomUnitProbes(rows, spec.dim, spec.seed + first);
    std::vector<std::string> subjects;
    subjects.reserve(rows);
    for (int64_t i = 0; i < rows; ++i) {
      subjects.push_back(absl::StrCat("bench-", first + i));
    }
    auto ids = client.Enroll(spec.name, vectors, rows, spec.dim, subjects);
    if (!ids.ok()) return Fail("enroll", ids.status());
  }
  return gallery;
}

}  // namespace candor::load
