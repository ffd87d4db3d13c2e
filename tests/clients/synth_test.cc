#include "clients/cli/synth.h"

#include <cmath>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace candor {
namespace {

SynthOptions SmallOptions() {
  SynthOptions o;
  o.subjects = 60;
  o.per_subject = 2;
  o.dim = 32;
  o.groups = {"A", "B", "C"};
  o.seed = 7;
  o.mated_probes = 45;
  o.nonmated_subjects = 90;
  return o;
}

float Dot(const FloatMatrix& a, int64_t i, const FloatMatrix& b, int64_t j) {
  double sum = 0.0;
  for (int64_t k = 0; k < a.cols; ++k) {
    sum += static_cast<double>(a.values[i * a.cols + k]) *
           b.values[j * b.cols + k];
  }
  return static_cast<float>(sum);
}

TEST(SynthTest, ShapesLabelsAndUnitRows) {
  absl::StatusOr<SynthData> d = Synthesize(SmallOptions());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->gallery.vectors.rows, 120);
  EXPECT_EQ(d->mated.vectors.rows, 45);
  EXPECT_EQ(d->nonmated.vectors.rows, 90);
  for (const SynthSet* set : {&d->gallery, &d->mated, &d->nonmated}) {
    EXPECT_EQ(set->vectors.cols, 32);
    EXPECT_EQ(set->vectors.values.size(),
              static_cast<size_t>(set->vectors.rows * 32));
    EXPECT_EQ(set->subject_ids.size(), static_cast<size_t>(set->vectors.rows));
    EXPECT_EQ(set->groups.size(), static_cast<size_t>(set->vectors.rows));
    for (int64_t r = 0; r < set->vectors.rows; ++r) {
      EXPECT_NEAR(Dot(set->vectors, r, set->vectors, r), 1.0f, 1e-5f);
    }
  }
  EXPECT_EQ(d->gallery.subject_ids[0], "subj-0");
  EXPECT_EQ(d->gallery.subject_ids[1], "subj-0");
  EXPECT_EQ(d->gallery.subject_ids[2], "subj-1");
  EXPECT_EQ(d->gallery.groups[2], "B");
  EXPECT_EQ(d->mated.subject_ids[44], "subj-44");
  EXPECT_EQ(d->nonmated.subject_ids[0], "nonmated-0");
}

TEST(SynthTest, DeterministicForASeed) {
  absl::StatusOr<SynthData> a = Synthesize(SmallOptions());
  absl::StatusOr<SynthData> b = Synthesize(SmallOptions());
  SynthOptions other = SmallOptions();
  other.seed = 8;
  absl::StatusOr<SynthData> c = Synthesize(other);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->gallery.vectors.values, b->gallery.vectors.values);
  EXPECT_EQ(a->mated.vectors.values, b->mated.vectors.values);
  EXPECT_EQ(a->nonmated.vectors.values, b->nonmated.vectors.values);
  EXPECT_NE(a->gallery.vectors.values, c->gallery.vectors.values);
}

TEST(SynthTest, MatedProbesAreFreshSamplesScoringHigh) {
  absl::StatusOr<SynthData> d = Synthesize(SmallOptions());
  ASSERT_TRUE(d.ok());
  double mated_sum = 0.0;
  for (int64_t p = 0; p < d->mated.vectors.rows; ++p) {
    // The probe's subject s has entries 2s and 2s+1.
    const int64_t s = p % 60;
    const float score = Dot(d->mated.vectors, p, d->gallery.vectors, 2 * s);
    EXPECT_LT(score, 0.999f) << "probe " << p << " copies an entry";
    mated_sum += score;
  }
  const double mated_mean = mated_sum / d->mated.vectors.rows;
  // Two samples of one identity: about 1 / (1 + sigma^2) = 0.735.
  EXPECT_GT(mated_mean, 0.65);
  EXPECT_LT(mated_mean, 0.85);
}

TEST(SynthTest, LaterGroupsHaveHigherImpostorScores) {
  SynthOptions o = SmallOptions();
  o.dim = 64;
  absl::StatusOr<SynthData> d = Synthesize(o);
  ASSERT_TRUE(d.ok());
  // Mean top-1 score of each group's non-mated probes against the gallery:
  // what FPIR(T) thresholds.
  std::map<std::string, double> sum;
  std::map<std::string, int> count;
  for (int64_t p = 0; p < d->nonmated.vectors.rows; ++p) {
    float best = -2.0f;
    for (int64_t e = 0; e < d->gallery.vectors.rows; ++e) {
      best = std::max(best, Dot(d->nonmated.vectors, p, d->gallery.vectors, e));
    }
    sum[d->nonmated.groups[p]] += best;
    count[d->nonmated.groups[p]] += 1;
  }
  const double a = sum["A"] / count["A"];
  const double b = sum["B"] / count["B"];
  const double c = sum["C"] / count["C"];
  EXPECT_GT(b, a + 0.02);
  EXPECT_GT(c, b + 0.02);
}

TEST(SynthTest, RefusesBadOptions) {
  SynthOptions o = SmallOptions();
  o.groups = {"A", "B", "C", "D", "E", "F", "G", "H"};  // h reaches 1.0
  absl::StatusOr<SynthData> d = Synthesize(o);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()), ::testing::HasSubstr("H"));
  o = SmallOptions();
  o.dim = 0;
  EXPECT_FALSE(Synthesize(o).ok());
  o = SmallOptions();
  o.groups = {};
  EXPECT_FALSE(Synthesize(o).ok());
}

TEST(SynthTest, WritesNpyAndCsvFiles) {
  SynthOptions o = SmallOptions();
  absl::StatusOr<SynthData> d = Synthesize(o);
  ASSERT_TRUE(d.ok());
  const std::string dir = ::testing::TempDir() + "/synth_test_out";
  ASSERT_TRUE(WriteSynth(*d, dir).ok());
  absl::StatusOr<FloatMatrix> gallery = ReadNpy(dir + "/gallery.npy");
  ASSERT_TRUE(gallery.ok()) << gallery.status();
  EXPECT_EQ(gallery->values, d->gallery.vectors.values);
  absl::StatusOr<FloatMatrix> nonmated = ReadNpy(dir + "/nonmated.npy");
  ASSERT_TRUE(nonmated.ok());
  EXPECT_EQ(nonmated->rows, 90);
}

}  // namespace
}  // namespace candor
