// The .npy reader against files laid out byte by byte here, following the
// NPY format specification, rather than produced by the writer under test.
#include "clients/cli/npy.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace candor {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Magic, version, header length (2 bytes for v1, 4 for v2/v3), the header
// padded with spaces and a newline to 64 bytes as NumPy does, then data.
std::string NpyFile(int major, const std::string& dict,
                    const std::string& data) {
  const size_t preamble = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((preamble + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const size_t len = header.size();
  out += static_cast<char>(len & 0xFF);
  out += static_cast<char>((len >> 8) & 0xFF);
  if (major != 1) {
    out += static_cast<char>((len >> 16) & 0xFF);
    out += static_cast<char>((len >> 24) & 0xFF);
  }
  return out + header + data;
}

// These tests run on little-endian hosts, where memory order is file order.
template <typename T>
std::string Bytes(const std::vector<T>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

std::string Dict(const std::string& descr, const std::string& order,
                 const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': " + order +
         ", 'shape': " + shape + ", }";
}

TEST(NpyTest, ReadsVersion1Float32) {
  const std::string file =
      NpyFile(1, Dict("<f4", "False", "(2, 3)"),
              Bytes<float>({1.5f, -2.0f, 3.0f, 4.0f, 5.25f, 6.0f}));
  absl::StatusOr<FloatMatrix> m = ParseNpy(file, "x.npy");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->rows, 2);
  EXPECT_EQ(m->cols, 3);
  EXPECT_THAT(m->values, ElementsAre(1.5f, -2.0f, 3.0f, 4.0f, 5.25f, 6.0f));
}

TEST(NpyTest, ReadsVersion2Float64AsFloat32) {
  const std::string file =
      NpyFile(2, Dict("<f8", "False", "(1, 2)"), Bytes<double>({0.1, -7.0}));
  absl::StatusOr<FloatMatrix> m = ParseNpy(file, "x.npy");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(m->values, ElementsAre(static_cast<float>(0.1), -7.0f));
}

// Half precision (NumPy's float16) is widened once, exactly: the bit
// patterns are IEEE 754 binary16, normal, subnormal, zero and infinity.
TEST(NpyTest, ReadsFloat16AsFloat32) {
  const std::vector<uint16_t> halves = {0x3C00, 0xC000, 0x3800, 0x7BFF,
                                        0x0001, 0x0200, 0x8000, 0x7C00};
  const std::string file =
      NpyFile(1, Dict("<f2", "False", "(2, 4)"), Bytes<uint16_t>(halves));
  absl::StatusOr<FloatMatrix> m = ParseNpy(file, "h.npy");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->rows, 2);
  EXPECT_EQ(m->cols, 4);
  EXPECT_THAT(m->values,
              ElementsAre(1.0f, -2.0f, 0.5f, 65504.0f, std::ldexp(1.0f, -24),
                          std::ldexp(1.0f, -15), -0.0f,
                          std::numeric_limits<float>::infinity()));
  EXPECT_TRUE(std::signbit(m->values[6]));
}

TEST(NpyTest, ReadsVersion3AndDoubleQuotedKeys) {
  const std::string file = NpyFile(
      3, "{\"descr\": \"<f4\", \"shape\": (1, 1), \"fortran_order\": False}",
      Bytes<float>({9.0f}));
  absl::StatusOr<FloatMatrix> m = ParseNpy(file, "x.npy");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(m->values, ElementsAre(9.0f));
}

TEST(NpyTest, OneDimensionalShapeIsOneRow) {
  const std::string file =
      NpyFile(1, Dict("<f4", "False", "(3,)"), Bytes<float>({1, 2, 3}));
  absl::StatusOr<FloatMatrix> m = ParseNpy(file, "x.npy");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->rows, 1);
  EXPECT_EQ(m->cols, 3);
}

TEST(NpyTest, FortranOrderIsTransposedToRowMajor) {
  // [[1, 2, 3], [4, 5, 6]] stored column after column.
  const std::string file = NpyFile(1, Dict("<f4", "True", "(2, 3)"),
                                   Bytes<float>({1, 4, 2, 5, 3, 6}));
  absl::StatusOr<FloatMatrix> m = ParseNpy(file, "x.npy");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(m->values, ElementsAre(1, 2, 3, 4, 5, 6));
}

TEST(NpyTest, EmptyMatrix) {
  absl::StatusOr<FloatMatrix> m =
      ParseNpy(NpyFile(1, Dict("<f4", "False", "(0, 8)"), ""), "x.npy");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->rows, 0);
  EXPECT_EQ(m->cols, 8);
}

struct Refusal {
  std::string label;
  std::string file;
  std::string problem;
};

// Test listings name the case (the file bytes would be unreadable).
void PrintTo(const Refusal& r, std::ostream* os) { *os << r.label; }

class NpyRefusalTest : public ::testing::TestWithParam<Refusal> {};

TEST_P(NpyRefusalTest, RefusesNamingFileAndProblem) {
  absl::StatusOr<FloatMatrix> m = ParseNpy(GetParam().file, "probes.npy");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("probes.npy"));
  EXPECT_THAT(std::string(m.status().message()), HasSubstr(GetParam().problem));
}

const std::string kSixFloats = Bytes<float>({1, 2, 3, 4, 5, 6});

INSTANTIATE_TEST_SUITE_P(
    Cases, NpyRefusalTest,
    ::testing::Values(
        Refusal{"BadMagic", "\x93NUMPZ\x01\x00\x00\x00", "bad magic"},
        Refusal{"NotNpy", "a,b\n1,2\n", "bad magic"},
        Refusal{"Int32", NpyFile(1, Dict("<i4", "False", "(2, 3)"), kSixFloats),
                "'<i4'"},
        Refusal{"BigEndian",
                NpyFile(1, Dict(">f4", "False", "(2, 3)"), kSixFloats),
                "'>f4'"},
        Refusal{"ThreeD",
                NpyFile(1, Dict("<f4", "False", "(1, 2, 3)"), kSixFloats),
                "not 2-D"},
        Refusal{"Truncated",
                NpyFile(1, Dict("<f4", "False", "(2, 3)"),
                        kSixFloats.substr(0, 20)),
                "truncated data"},
        Refusal{"Trailing",
                NpyFile(1, Dict("<f4", "False", "(1, 3)"), kSixFloats),
                "after the data"},
        Refusal{"Version4",
                NpyFile(2, Dict("<f4", "False", "(2, 3)"), kSixFloats)
                    .replace(6, 1, "\x04"),
                "version 4.0"},
        Refusal{
            "MissingShape",
            NpyFile(1, "{'descr': '<f4', 'fortran_order': False}", kSixFloats),
            "header lacks"},
        Refusal{"GarbageHeader", NpyFile(1, "not a dict", kSixFloats),
                "header"},
        Refusal{"HeaderLongerThanFile",
                NpyFile(1, Dict("<f4", "False", "(2, 3)"), "").substr(0, 30),
                "truncated header"}),
    [](const ::testing::TestParamInfo<Refusal>& info) {
      return info.param.label;
    });

TEST(NpyTest, EncodeWritesVersion1AlignedFloat32CFile) {
  const std::vector<float> values = {0.5f, -1.0f, 2.0f, 3.0f};
  absl::StatusOr<std::string> bytes = EncodeNpy(values, 2, 2);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  ASSERT_GE(bytes->size(), 10u);
  EXPECT_EQ(bytes->substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_len = static_cast<unsigned char>((*bytes)[8]) |
                            static_cast<unsigned char>((*bytes)[9]) << 8;
  EXPECT_EQ((10 + header_len) % 64, 0u);
  const std::string header = bytes->substr(10, header_len);
  EXPECT_THAT(header, HasSubstr("'descr': '<f4'"));
  EXPECT_THAT(header, HasSubstr("'fortran_order': False"));
  EXPECT_THAT(header, HasSubstr("'shape': (2, 2)"));
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(bytes->substr(10 + header_len), Bytes(values));
}

TEST(NpyTest, EncodeRefusesWrongValueCount) {
  EXPECT_FALSE(EncodeNpy(std::vector<float>{1, 2, 3}, 2, 2).ok());
}

TEST(NpyTest, WriteThenReadFile) {
  const std::string path = ::testing::TempDir() + "/npy_test_roundtrip.npy";
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  ASSERT_TRUE(WriteNpy(path, values, 3, 2).ok());
  absl::StatusOr<FloatMatrix> m = ReadNpy(path);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->rows, 3);
  EXPECT_EQ(m->values, values);
  std::remove(path.c_str());
}

TEST(NpyTest, MissingFileNamesThePath) {
  absl::StatusOr<FloatMatrix> m = ReadNpy("/nonexistent-dir/none.npy");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("none.npy"));
}

}  // namespace
}  // namespace candor
