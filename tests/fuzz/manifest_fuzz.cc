// A gallery MANIFEST from untrusted bytes: decoded or refused with a
// status; what decodes encodes back to something that decodes the same.
#include <cstdlib>

#include "server/gallery/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto manifest = candor::gallery::DecodeManifest(bytes, "MANIFEST");
  if (!manifest.ok()) return 0;
  const std::string again = candor::gallery::EncodeManifest(*manifest);
  auto round = candor::gallery::DecodeManifest(again, "MANIFEST");
  if (!round.ok() || candor::gallery::EncodeManifest(*round) != again) {
    std::abort();
  }
  return 0;
}
