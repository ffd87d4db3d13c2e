#include "clients/cpp/matrix.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace candor {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(MatrixTest, PacksLittleEndianRowMajor) {
  // IEEE 754 single: 1.0 = 0x3F800000, -2.0 = 0xC0000000.
  absl::StatusOr<v1::Matrix> m =
      PackMatrix(std::vector<float>{1.0f, -2.0f}, 1, 2);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->rows(), 1u);
  EXPECT_EQ(m->cols(), 2u);
  EXPECT_EQ(m->data(), std::string("\x00\x00\x80\x3F\x00\x00\x00\xC0", 8));
}

TEST(MatrixTest, RoundTrips) {
  const std::vector<float> values = {0.25f, 1e-30f, -3.5f, 7.0f, 8.0f, 9.0f};
  absl::StatusOr<v1::Matrix> m = PackMatrix(values, 3, 2);
  ASSERT_TRUE(m.ok());
  absl::StatusOr<std::vector<float>> back = UnpackMatrix(*m, 2);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, values);
}

TEST(MatrixTest, PackRefusesWrongCount) {
  absl::StatusOr<v1::Matrix> m = PackMatrix(std::vector<float>{1, 2, 3}, 2, 2);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(m.status().message()),
              HasSubstr("needs 4 values, got 3"));
}

TEST(MatrixTest, UnpackChecksSizeAndColumns) {
  v1::Matrix m;
  m.set_rows(2);
  m.set_cols(2);
  m.set_data(std::string(12, '\0'));
  absl::StatusOr<std::vector<float>> short_data = UnpackMatrix(m);
  ASSERT_FALSE(short_data.ok());
  EXPECT_EQ(short_data.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(short_data.status().message()),
              HasSubstr("needs 16 data bytes, got 12"));

  m.set_data(std::string(16, '\0'));
  EXPECT_TRUE(UnpackMatrix(m).ok());
  absl::StatusOr<std::vector<float>> wrong_cols = UnpackMatrix(m, 3);
  ASSERT_FALSE(wrong_cols.ok());
  EXPECT_THAT(std::string(wrong_cols.status().message()),
              HasSubstr("2 columns, expected 3"));
}

TEST(MatrixTest, EmptyMatrix) {
  absl::StatusOr<v1::Matrix> m = PackMatrix({}, 0, 16);
  ASSERT_TRUE(m.ok());
  absl::StatusOr<std::vector<float>> back = UnpackMatrix(*m, 16);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->empty());
}

}  // namespace
}  // namespace candor
