#include "clients/cpp/matrix.h"

#include <cstring>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace candor {
namespace {

constexpr int64_t kBytesPerValue = 4;
constexpr int64_t kMaxDimension = std::numeric_limits<uint32_t>::max();

// Byte order is spelled out rather than memcpy'd so that the wire format
// stays little-endian on any host.
void AppendLittleEndian(float value, std::string* out) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  char bytes[kBytesPerValue];
  for (int i = 0; i < kBytesPerValue; ++i) {
    bytes[i] = static_cast<char>((bits >> (8 * i)) & 0xFFu);
  }
  out->append(bytes, kBytesPerValue);
}

float ReadLittleEndian(const char* bytes) {
  uint32_t bits = 0;
  for (int i = 0; i < kBytesPerValue; ++i) {
    bits |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i]))
            << (8 * i);
  }
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

}  // namespace

absl::StatusOr<v1::Matrix> PackMatrix(absl::Span<const float> values,
                                      int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0 || rows > kMaxDimension || cols > kMaxDimension) {
    return absl::InvalidArgumentError(
        absl::StrCat("matrix shape ", rows, " x ", cols, " is out of range"));
  }
  if (static_cast<int64_t>(values.size()) != rows * cols) {
    return absl::InvalidArgumentError(
        absl::StrCat("matrix of ", rows, " x ", cols, " needs ", rows * cols,
                     " values, got ", values.size()));
  }
  v1::Matrix matrix;
  matrix.set_rows(static_cast<uint32_t>(rows));
  matrix.set_cols(static_cast<uint32_t>(cols));
  std::string* data = matrix.mutable_data();
  data->reserve(values.size() * kBytesPerValue);
  for (float value : values) AppendLittleEndian(value, data);
  return matrix;
}

absl::StatusOr<std::vector<float>> UnpackMatrix(const v1::Matrix& matrix,
                                                uint32_t expected_cols) {
  if (expected_cols != 0 && matrix.cols() != expected_cols) {
    return absl::InvalidArgumentError(absl::StrCat(
        "matrix has ", matrix.cols(), " columns, expected ", expected_cols));
  }
  const int64_t values =
      static_cast<int64_t>(matrix.rows()) * static_cast<int64_t>(matrix.cols());
  const int64_t expected_bytes = values * kBytesPerValue;
  if (static_cast<int64_t>(matrix.data().size()) != expected_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "matrix of ", matrix.rows(), " x ", matrix.cols(), " needs ",
        expected_bytes, " data bytes, got ", matrix.data().size()));
  }
  std::vector<float> out(static_cast<size_t>(values));
  const char* bytes = matrix.data().data();
  for (int64_t i = 0; i < values; ++i) {
    out[static_cast<size_t>(i)] = ReadLittleEndian(bytes + i * kBytesPerValue);
  }
  return out;
}

}  // namespace candor
