// Limits that read the server's own galleries (their count, their size,
// the entries a self-audit would search), apart from the checks of a
// request alone (server/edge/validation.h), which the router shares.
#ifndef CANDOR_SERVER_API_GALLERY_LIMITS_H_
#define CANDOR_SERVER_API_GALLERY_LIMITS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "server/api/options.h"
#include "server/gallery/gallery.h"

namespace candor::api {

// A self-audit of a gallery whose live entries are `entries`: its groups
// become the calibration's (FailedPrecondition naming
// --max_calibration_groups), and each sampled entry is searched as deep as
// its subject has entries (FailedPrecondition naming --max_top_k).
absl::Status ValidateSelfAudit(const std::vector<gallery::EntryMeta>& entries,
                               int top_k, const LimitOptions& limits);

// CreateGallery on a server holding `galleries` (ResourceExhausted naming
// --max_galleries).
absl::Status ValidateGalleryCount(size_t galleries, int max_galleries);
// Enroll of `rows` more entries into a gallery of `size` live entries
// (ResourceExhausted naming --max_gallery_entries or --max_gallery_bytes).
absl::Status ValidateGalleryCapacity(uint64_t size, int dimension, int rows,
                                     const LimitOptions& limits);

}  // namespace candor::api

#endif  // CANDOR_SERVER_API_GALLERY_LIMITS_H_
