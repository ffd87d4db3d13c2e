#include "bench/load/gallery_setup.h"

#include "gtest/gtest.h"

namespace candor::load {
namespace {

v1::Gallery GalleryOf(v1::Precision precision) {
  v1::Gallery gallery;
  gallery.set_name("g");
  gallery.set_precision(precision);
  return gallery;
}

TEST(ParsePrecision, NamesTheTwoPrecisionsAndLeavesUnsetUnspecified) {
  EXPECT_EQ(*ParsePrecision("fp32"), v1::PRECISION_FP32);
  EXPECT_EQ(*ParsePrecision("bf16"), v1::PRECISION_BF16);
  EXPECT_EQ(*ParsePrecision(""), v1::PRECISION_UNSPECIFIED);
}

TEST(ParsePrecision, RefusesAnythingElseNamingIt) {
  for (const char* name : {"fp16", "BF16", "bfloat16", " fp32"}) {
    absl::StatusOr<v1::Precision> p = ParsePrecision(name);
    ASSERT_FALSE(p.ok()) << name;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(name), absl::string_view::npos)
        << p.status();
  }
}

TEST(PrecisionName, RoundTripsAndSaysWhenTheServerDidNot) {
  for (v1::Precision p : {v1::PRECISION_FP32, v1::PRECISION_BF16}) {
    EXPECT_EQ(*ParsePrecision(PrecisionName(p)), p);
  }
  EXPECT_EQ(PrecisionName(v1::PRECISION_UNSPECIFIED), "unspecified");
}

TEST(CheckPrecision, AcceptsTheGalleryPrecisionOrNoWish) {
  EXPECT_TRUE(
      CheckPrecision(GalleryOf(v1::PRECISION_BF16), v1::PRECISION_BF16).ok());
  EXPECT_TRUE(
      CheckPrecision(GalleryOf(v1::PRECISION_FP32), v1::PRECISION_FP32).ok());
  for (v1::Precision p :
       {v1::PRECISION_FP32, v1::PRECISION_BF16, v1::PRECISION_UNSPECIFIED}) {
    EXPECT_TRUE(CheckPrecision(GalleryOf(p), v1::PRECISION_UNSPECIFIED).ok());
  }
}

TEST(CheckPrecision, RefusesAnotherPrecisionNamingBoth) {
  const absl::Status s =
      CheckPrecision(GalleryOf(v1::PRECISION_FP32), v1::PRECISION_BF16);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("holds fp32"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("the bf16"), absl::string_view::npos) << s;
}

TEST(CheckPrecision, RefusesAGalleryWhosePrecisionIsNotSaid) {
  // A router's GetGallery: a wish cannot be checked, so it is not assumed.
  const absl::Status s =
      CheckPrecision(GalleryOf(v1::PRECISION_UNSPECIFIED), v1::PRECISION_FP32);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("does not say"), absl::string_view::npos) << s;
}

}  // namespace
}  // namespace candor::load
