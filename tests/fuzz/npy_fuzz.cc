// The CLI's .npy reader on untrusted bytes: a matrix whose values match
// its shape, or a status; never a crash or a forged-shape allocation.
#include <cstdlib>

#include "clients/cli/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto matrix = candor::ParseNpy(bytes, "fuzz.npy");
  if (matrix.ok() &&
      matrix->values.size() != static_cast<size_t>(matrix->rows * matrix->cols)) {
    std::abort();
  }
  return 0;
}
