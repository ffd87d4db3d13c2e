// One-line operational messages of the gallery layer, on stderr (the
// Abseil release candor builds against has no logging library).
#ifndef CANDOR_SERVER_GALLERY_LOG_H_
#define CANDOR_SERVER_GALLERY_LOG_H_

#include "absl/strings/string_view.h"

namespace candor::gallery {

void LogWarning(absl::string_view message);

}  // namespace candor::gallery

#endif  // CANDOR_SERVER_GALLERY_LOG_H_
