// The L2-normalize and fp16 conversion kernels against their CPU references.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/half_convert.h"
#include "kernels/half_convert_device.h"
#include "kernels/normalize.h"
#include "kernels/normalize_device.h"
#include "tests/gpu/gpu_test_util.h"

namespace candor::kernels {
namespace {

using candor::testing::GpuTest;
using candor::testing::ToDevice;
using candor::testing::ToHost;

// Device and reference both accumulate in double and scale in double; only
// the summation order differs, so results agree to about one float ulp.
constexpr float kNormalizeRelativeTolerance = 2.5e-7f;

// Random rows with every fifth row bad in one of the ways the contract names.
std::vector<float> MakeRows(int64_t rows, int64_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> data(static_cast<size_t>(rows * dim));
  for (float& v : data) v = dist(rng);
  for (int64_t r = 0; r < rows; r += 5) {
    float* row = data.data() + r * dim;
    switch ((r / 5) % 4) {
      case 0:
        for (int64_t c = 0; c < dim; ++c) row[c] = 0.0f;
        break;
      case 1:
        row[dim / 2] = std::numeric_limits<float>::quiet_NaN();
        break;
      case 2:
        row[dim - 1] = -std::numeric_limits<float>::infinity();
        break;
      default:
        break;  // a good row among the bad ones
    }
  }
  return data;
}

class NormalizeGpuTest
    : public GpuTest,
      public ::testing::WithParamInterface<std::tuple<int64_t, int64_t>> {};

TEST_P(NormalizeGpuTest, Fp32MatchesReference) {
  const auto [rows, dim] = GetParam();
  const std::vector<float> in = MakeRows(rows, dim, 3);
  std::vector<float> want(in.size());
  std::vector<RowStatus> want_status(static_cast<size_t>(rows));
  L2NormalizeRowsReference(in.data(), rows, dim, want.data(),
                           want_status.data());

  auto d_in = ToDevice(in);
  ASSERT_TRUE(d_in.ok()) << d_in.status();
  auto d_out = DeviceBuffer<float>::Allocate(in.size());
  auto d_status = DeviceBuffer<RowStatus>::Allocate(rows);
  ASSERT_TRUE(d_out.ok() && d_status.ok());
  ASSERT_TRUE(L2NormalizeRowsDevice(d_in->data(), rows, dim, d_out->data(),
                                    d_status->data(), nullptr)
                  .ok());
  auto got = ToHost(d_out->data(), in.size());
  auto got_status = ToHost(d_status->data(), static_cast<size_t>(rows));
  ASSERT_TRUE(got.ok() && got_status.ok());
  EXPECT_EQ(*got_status, want_status);
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_NEAR((*got)[i], want[i],
                kNormalizeRelativeTolerance * std::fabs(want[i]))
        << "element " << i;
  }

  // In place gives the same.
  ASSERT_TRUE(L2NormalizeRowsDevice(d_in->data(), rows, dim, d_in->data(),
                                    d_status->data(), nullptr)
                  .ok());
  auto in_place = ToHost(d_in->data(), in.size());
  ASSERT_TRUE(in_place.ok());
  EXPECT_EQ(*in_place, *got);
}

TEST_P(NormalizeGpuTest, Fp16EqualsHalfOfReference) {
  const auto [rows, dim] = GetParam();
  const std::vector<float> in = MakeRows(rows, dim, 5);
  std::vector<float> normalized(in.size());
  std::vector<RowStatus> want_status(static_cast<size_t>(rows));
  L2NormalizeRowsReference(in.data(), rows, dim, normalized.data(),
                           want_status.data());
  std::vector<uint16_t> want(in.size());
  FloatToHalfReference(normalized.data(), static_cast<int64_t>(in.size()),
                       want.data());

  auto d_in = ToDevice(in);
  auto d_out = DeviceBuffer<uint16_t>::Allocate(in.size());
  auto d_status = DeviceBuffer<RowStatus>::Allocate(rows);
  ASSERT_TRUE(d_in.ok() && d_out.ok() && d_status.ok());
  ASSERT_TRUE(L2NormalizeRowsToHalfDevice(d_in->data(), rows, dim,
                                          d_out->data(), d_status->data(),
                                          nullptr)
                  .ok());
  auto got = ToHost(d_out->data(), in.size());
  auto got_status = ToHost(d_status->data(), static_cast<size_t>(rows));
  ASSERT_TRUE(got.ok() && got_status.ok());
  EXPECT_EQ(*got_status, want_status);
  // A one-ulp float difference can flip a half rounding: allow one half ulp
  // (2^-10 relative), which is also what fp16 storage costs anyway.
  const float kHalfUlpRelative = std::ldexp(1.0f, -10);
  for (size_t i = 0; i < want.size(); ++i) {
    const float w = HalfToFloat(want[i]);
    ASSERT_NEAR(HalfToFloat((*got)[i]), w, kHalfUlpRelative * std::fabs(w))
        << "element " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, NormalizeGpuTest,
    ::testing::Combine(::testing::Values<int64_t>(1, 9, 1000),
                       ::testing::Values<int64_t>(1, 3, 4, 128, 512, 513)));

class HalfConvertGpuTest : public GpuTest {};

TEST_F(HalfConvertGpuTest, BitExactWithReferenceOnAlignedAndUnalignedData) {
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> dist(-70000.0f, 70000.0f);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<float> in(100003);
  for (size_t i = 0; i < in.size(); ++i) {
    in[i] = (i % 3 == 0)
                ? dist(rng)
                : unit(rng) * std::ldexp(1.0f, -static_cast<int>(i % 30));
  }
  in[0] = std::numeric_limits<float>::infinity();
  in[1] = -0.0f;
  in[2] = std::numeric_limits<float>::denorm_min();
  auto d_in = ToDevice(in);
  auto d_out = DeviceBuffer<uint16_t>::Allocate(in.size());
  ASSERT_TRUE(d_in.ok() && d_out.ok());
  // offset 0: vector path; offset 1: unaligned, scalar path.
  for (int64_t offset : {0, 1}) {
    const int64_t n = static_cast<int64_t>(in.size()) - offset;
    std::vector<uint16_t> want(static_cast<size_t>(n));
    FloatToHalfReference(in.data() + offset, n, want.data());
    ASSERT_TRUE(
        FloatToHalfDevice(d_in->data() + offset, n, d_out->data(), nullptr)
            .ok());
    auto got = ToHost(d_out->data(), static_cast<size_t>(n));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, want) << "offset " << offset;
  }
}

TEST(NormalizeDeviceArguments, BadShapesAreInvalidArgumentWithoutADevice) {
  EXPECT_EQ(
      L2NormalizeRowsDevice(nullptr, -1, 4, nullptr, nullptr, nullptr).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      L2NormalizeRowsDevice(nullptr, 3, 0, nullptr, nullptr, nullptr).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      L2NormalizeRowsDevice(nullptr, 0, 4, nullptr, nullptr, nullptr).ok());
}

}  // namespace
}  // namespace candor::kernels
