#include "clients/cli/npy.h"

#include <cstring>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/cli/file_io.h"

namespace candor {
namespace {

constexpr absl::string_view kMagic = "\x93NUMPY";
// Magic, two version bytes, then a 2-byte (v1) or 4-byte (v2, v3) length.
constexpr size_t kPreambleV1Bytes = 10;
constexpr size_t kPreambleV2Bytes = 12;
// NumPy pads the header so that the data starts 64-byte aligned.
constexpr size_t kHeaderAlignBytes = 64;

uint64_t ReadLittleEndian(absl::string_view bytes, size_t width) {
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) {
    value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i]))
             << (8 * i);
  }
  return value;
}

// What the header dictionary says.
struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// A reader for the Python literal NumPy writes as the header:
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
 public:
  explicit HeaderParser(absl::string_view text) : text_(text) {}

  absl::StatusOr<NpyHeader> Parse() {
    NpyHeader header;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    if (!Consume('{')) return Error("does not start with '{'");
    while (!Consume('}')) {
      std::optional<std::string> key = String();
      if (!key || !Consume(':')) return Error("expects 'key': value");
      if (*key == "descr") {
        std::optional<std::string> descr = String();
        if (!descr) return Error("descr is not a string");
        header.descr = *descr;
        seen_descr = true;
      } else if (*key == "fortran_order") {
        std::optional<bool> order = Bool();
        if (!order) return Error("fortran_order is not True or False");
        header.fortran_order = *order;
        seen_order = true;
      } else if (*key == "shape") {
        std::optional<std::vector<int64_t>> shape = Shape();
        if (!shape) return Error("shape is not a tuple of integers");
        header.shape = *std::move(shape);
        seen_shape = true;
      } else {
        return Error(absl::StrCat("has an unknown key '", *key, "'"));
      }
      if (!Consume(',')) {
        if (!Consume('}')) return Error("expects ',' or '}'");
        break;
      }
    }
    if (!seen_descr || !seen_order || !seen_shape) {
      return Error("lacks one of 'descr', 'fortran_order', 'shape'");
    }
    return header;
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("header ", what));
  }
  void SkipSpace() {
    while (pos_ < text_.size() && absl::ascii_isspace(text_[pos_])) ++pos_;
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool ConsumeWord(absl::string_view word) {
    SkipSpace();
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  std::optional<std::string> String() {
    SkipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      return std::nullopt;
    }
    const char quote = text_[pos_++];
    const size_t end = text_.find(quote, pos_);
    if (end == absl::string_view::npos) return std::nullopt;
    std::string value(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return value;
  }
  std::optional<bool> Bool() {
    if (ConsumeWord("True")) return true;
    if (ConsumeWord("False")) return false;
    return std::nullopt;
  }
  std::optional<std::vector<int64_t>> Shape() {
    if (!Consume('(')) return std::nullopt;
    std::vector<int64_t> dims;
    while (!Consume(')')) {
      SkipSpace();
      size_t end = pos_;
      while (end < text_.size() && absl::ascii_isdigit(text_[end])) ++end;
      int64_t dim;
      if (end == pos_ ||
          !absl::SimpleAtoi(text_.substr(pos_, end - pos_), &dim)) {
        return std::nullopt;
      }
      dims.push_back(dim);
      pos_ = end;
      if (!Consume(',')) {
        if (!Consume(')')) return std::nullopt;
        break;
      }
    }
    return dims;
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

absl::Status FileError(absl::string_view name, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(name, ": ", what));
}

// IEEE 754 binary16 to float32; every half value is exact in float32.
float HalfToFloat(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000) << 16;
  const uint32_t exponent = (half >> 10) & 0x1F;
  uint32_t mantissa = half & 0x3FF;
  uint32_t bits;
  if (exponent == 0x1F) {  // infinity or NaN
    bits = sign | 0x7F800000 | (mantissa << 13);
  } else if (exponent != 0) {  // normal: rebias 15 -> 127
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {  // signed zero
    bits = sign;
  } else {  // subnormal half: a normal float once shifted into place
    int shift = 0;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    bits = sign | static_cast<uint32_t>(113 - shift) << 23 |
           ((mantissa & 0x3FF) << 13);
  }
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

float ValueAt(absl::string_view data, size_t index, size_t item_bytes) {
  if (item_bytes == 8) {
    const uint64_t bits = ReadLittleEndian(data.substr(index * 8, 8), 8);
    double value;
    std::memcpy(&value, &bits, sizeof(value));
    return static_cast<float>(value);
  }
  if (item_bytes == 2) {
    return HalfToFloat(
        static_cast<uint16_t>(ReadLittleEndian(data.substr(index * 2, 2), 2)));
  }
  const uint32_t bits =
      static_cast<uint32_t>(ReadLittleEndian(data.substr(index * 4, 4), 4));
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

}  // namespace

absl::StatusOr<FloatMatrix> ParseNpy(absl::string_view bytes,
                                     absl::string_view name) {
  if (bytes.size() < kPreambleV1Bytes || bytes.substr(0, 6) != kMagic) {
    return FileError(name, "not an .npy file (bad magic)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  const int minor = static_cast<unsigned char>(bytes[7]);
  size_t preamble_bytes;
  if (major == 1 && minor == 0) {
    preamble_bytes = kPreambleV1Bytes;
  } else if ((major == 2 || major == 3) && minor == 0) {
    preamble_bytes = kPreambleV2Bytes;
  } else {
    return FileError(name, absl::StrCat("unsupported .npy format version ",
                                        major, ".", minor));
  }
  if (bytes.size() < preamble_bytes) {
    return FileError(name, "truncated header");
  }
  const uint64_t header_bytes =
      ReadLittleEndian(bytes.substr(8), preamble_bytes - 8);
  if (bytes.size() - preamble_bytes < header_bytes) {
    return FileError(name, "truncated header");
  }
  absl::StatusOr<NpyHeader> header =
      HeaderParser(bytes.substr(preamble_bytes, header_bytes)).Parse();
  if (!header.ok()) return FileError(name, header.status().message());

  size_t item_bytes;
  if (header->descr == "<f4") {
    item_bytes = 4;
  } else if (header->descr == "<f8") {
    item_bytes = 8;
  } else if (header->descr == "<f2") {
    item_bytes = 2;
  } else {
    return FileError(name, absl::StrCat("dtype '", header->descr,
                                        "' is not supported (need '<f2', "
                                        "'<f4' or '<f8': little-endian "
                                        "float)"));
  }
  FloatMatrix matrix;
  if (header->shape.size() == 2) {
    matrix.rows = header->shape[0];
    matrix.cols = header->shape[1];
  } else if (header->shape.size() == 1) {
    matrix.rows = 1;
    matrix.cols = header->shape[0];
  } else {
    return FileError(name,
                     absl::StrCat("shape (", absl::StrJoin(header->shape, ", "),
                                  ") is not 2-D"));
  }
  // Bounds the product below so that it cannot overflow.
  constexpr int64_t kMaxDim = int64_t{1} << 31;
  if (matrix.rows > kMaxDim || matrix.cols > kMaxDim) {
    return FileError(name, "shape is too large");
  }
  const uint64_t count =
      static_cast<uint64_t>(matrix.rows) * static_cast<uint64_t>(matrix.cols);
  const absl::string_view data = bytes.substr(preamble_bytes + header_bytes);
  if (count > data.size() / item_bytes) {
    return FileError(
        name,
        absl::StrCat("truncated data: shape ", matrix.rows, " x ", matrix.cols,
                     " needs ", count, " values of ", item_bytes,
                     " bytes, file has ", data.size(), " data bytes"));
  }
  if (data.size() != count * item_bytes) {
    return FileError(name, absl::StrCat(data.size() - count * item_bytes,
                                        " bytes after the data"));
  }
  matrix.values.resize(count);
  const size_t rows = static_cast<size_t>(matrix.rows);
  const size_t cols = static_cast<size_t>(matrix.cols);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      // Fortran order stores column after column.
      const size_t source = header->fortran_order ? c * rows + r : r * cols + c;
      matrix.values[r * cols + c] = ValueAt(data, source, item_bytes);
    }
  }
  return matrix;
}

absl::StatusOr<FloatMatrix> ReadNpy(const std::string& path) {
  if (path == "-") {
    std::ostringstream bytes;
    bytes << std::cin.rdbuf();
    if (std::cin.bad()) {
      return absl::DataLossError("standard input: read failed");
    }
    return ParseNpy(bytes.str(), "standard input");
  }
  absl::StatusOr<std::string> bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  return ParseNpy(*bytes, path);
}

absl::StatusOr<std::string> EncodeNpy(absl::Span<const float> values,
                                      int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0 ||
      static_cast<int64_t>(values.size()) != rows * cols) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot write ", values.size(), " values as ", rows, " x ", cols));
  }
  std::string header = absl::StrCat(
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (",
      rows, ", ", cols, "), }");
  // Spaces, then a newline, up to the next 64-byte boundary.
  const size_t unpadded = kPreambleV1Bytes + header.size() + 1;
  header.append(
      (kHeaderAlignBytes - unpadded % kHeaderAlignBytes) % kHeaderAlignBytes,
      ' ');
  header.push_back('\n');
  if (header.size() > std::numeric_limits<uint16_t>::max()) {
    return absl::InvalidArgumentError("npy header too long for version 1.0");
  }
  std::string out(kMagic);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(header.size() & 0xFF));
  out.push_back(static_cast<char>((header.size() >> 8) & 0xFF));
  out += header;
  out.reserve(out.size() + values.size() * 4);
  for (float value : values) {
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof(bits));
    for (int i = 0; i < 4; ++i) {
      out.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
    }
  }
  return out;
}

absl::Status WriteNpy(const std::string& path, absl::Span<const float> values,
                      int64_t rows, int64_t cols) {
  absl::StatusOr<std::string> bytes = EncodeNpy(values, rows, cols);
  if (!bytes.ok()) return bytes.status();
  return WriteFileBytes(path, *bytes);
}

}  // namespace candor
