// A snapshot file from untrusted bytes: ReadSnapshot must refuse damage
// with a status (never crash or over-allocate on a forged count), and a
// snapshot it accepts must hold rows of the gallery's dimension, every one
// readable (format 2 rows are read in place from the mapped file).
#include <cstdlib>
#include <vector>

#include "server/gallery/snapshot.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr int kDim = 4;
  const std::string path = candor::fuzz::WriteScratch(
      candor::fuzz::ScratchDir() + "/snapshot.snap", data, size);
  auto state = candor::gallery::ReadSnapshot(
      candor::storage::Env::Default(), path, kDim);
  if (!state.ok()) return 0;
  if (state->table.dimension() != kDim) std::abort();
  std::vector<float> rows(state->table.size() * kDim);
  state->table.CopyRows(0, state->table.size(), rows.data());
  return 0;
}
