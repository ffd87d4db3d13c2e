// The fp16 conversion reference against values whose binary16 encodings are
// known from the IEEE 754 definition.
#include "kernels/half_convert.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace candor::kernels {
namespace {

uint16_t ToHalf(float v) {
  uint16_t h = 0;
  FloatToHalfReference(&v, 1, &h);
  return h;
}

TEST(FloatToHalfReference, KnownEncodings) {
  EXPECT_EQ(ToHalf(0.0f), 0x0000);
  EXPECT_EQ(ToHalf(-0.0f), 0x8000);
  EXPECT_EQ(ToHalf(1.0f), 0x3c00);
  EXPECT_EQ(ToHalf(-2.0f), 0xc000);
  EXPECT_EQ(ToHalf(0.5f), 0x3800);
  EXPECT_EQ(ToHalf(65504.0f), 0x7bff);  // largest finite half
  EXPECT_EQ(ToHalf(1e6f), 0x7c00);      // overflow to +Inf
  EXPECT_EQ(ToHalf(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(ToHalf(5.9604645e-8f), 0x0001);  // smallest subnormal half
  const uint16_t nan = ToHalf(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x03ff, 0);
}

TEST(FloatToHalfReference, RoundsToNearestTiesToEven) {
  // Halves near 1 are 2^-10 apart. 1 + 2^-11 is a tie between 1 (even
  // mantissa) and 1 + 2^-10: it goes to 1. 1 + 3 * 2^-11 is a tie between
  // 1 + 2^-10 (odd) and 1 + 2^-9 (even): it goes up.
  EXPECT_EQ(ToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(ToHalf(1.0f + 3.0f * std::ldexp(1.0f, -11)), 0x3c02);
  // Just above the tie rounds up.
  EXPECT_EQ(ToHalf(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)),
            0x3c01);
}

TEST(FloatToHalfReference, RelativeErrorOfUnitRangeIsAtMostHalfUlp) {
  // Normalized embeddings have components in [-1, 1]; above the half
  // subnormal range (2^-14) the relative error is <= 2^-11.
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> in(10000);
  for (float& v : in) v = dist(rng);
  std::vector<uint16_t> out(in.size());
  FloatToHalfReference(in.data(), static_cast<int64_t>(in.size()), out.data());
  const double kMaxRelativeError = std::ldexp(1.0, -11);
  for (size_t i = 0; i < in.size(); ++i) {
    if (std::fabs(in[i]) < std::ldexp(1.0f, -14)) continue;
    const double back = HalfToFloat(out[i]);
    EXPECT_LE(std::fabs(back - in[i]) / std::fabs(in[i]), kMaxRelativeError)
        << in[i];
  }
}

TEST(HalfToFloat, WidensExactly) {
  EXPECT_EQ(HalfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(HalfToFloat(0x3555), 0.333251953125f);
  EXPECT_EQ(HalfToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(HalfToFloat(0xfc00)));
}

}  // namespace
}  // namespace candor::kernels
