// Reading and writing NumPy .npy files of float matrices.
//
// Read: format versions 1.0, 2.0 and 3.0; dtype '<f4', or '<f2' / '<f8'
// converted once to float32; C or Fortran order (Fortran is transposed to
// row-major); a 2-D shape, or a 1-D shape (D,) read as one row of D. Anything
// else is refused with an InvalidArgument naming the file and the problem.
// Write: '<f4', C order, version 1.0, header padded to 64 bytes as NumPy
// does.
#ifndef CANDOR_CLIENTS_CLI_NPY_H_
#define CANDOR_CLIENTS_CLI_NPY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace candor {

// A dense row-major float matrix in host memory.
struct FloatMatrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> values;  // rows * cols
};

// Parses the bytes of an .npy file; `name` is used in error messages.
absl::StatusOr<FloatMatrix> ParseNpy(absl::string_view bytes,
                                     absl::string_view name);
// Reads `path`, or standard input (to its end) when path is "-".
absl::StatusOr<FloatMatrix> ReadNpy(const std::string& path);

// The bytes of a version 1.0 '<f4' C-order file holding rows x cols values.
absl::StatusOr<std::string> EncodeNpy(absl::Span<const float> values,
                                      int64_t rows, int64_t cols);
absl::Status WriteNpy(const std::string& path, absl::Span<const float> values,
                      int64_t rows, int64_t cols);

}  // namespace candor

#endif  // CANDOR_CLIENTS_CLI_NPY_H_
