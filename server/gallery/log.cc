#include "server/gallery/log.h"

#include <cstdio>

namespace candor::gallery {

void LogWarning(absl::string_view message) {
  std::fprintf(stderr, "candor gallery: %.*s\n",
               static_cast<int>(message.size()), message.data());
}

}  // namespace candor::gallery
