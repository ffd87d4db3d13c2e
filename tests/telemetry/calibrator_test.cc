// The calibrator over a fake role: label checks, chunking, the caller's
// limits, observations of a labeled set and a self-audit, and what is
// stored (or not) when a call fails.
#include "server/telemetry/calibrator.h"

#include <cmath>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/telemetry/calibration_store.h"
#include "server/telemetry/policy_unit.h"
#include "tests/storage/fault_env.h"
#include "tests/telemetry/telemetry_test_util.h"

namespace candor::telemetry {
namespace {

using ::testing::HasSubstr;
using testing::FakeGallery;
using testing::Rows;

class CalibratorTest : public ::testing::Test {
 protected:
  CalibratorTest()
      : policy_(PolicyUnit::Options(), &store_, nullptr),
        calibrator_(&store_, &policy_) {
    gallery_.Add(1, "s1", "x", 0.0f);
    gallery_.Add(2, "s2", "y", 1.0f);
    gallery_.Add(3, "s3", "y", 2.0f);
    gallery_.Add(4, "s3", "y", 2.1f);
  }

  CalibrationStore store_;
  PolicyUnit policy_;
  Calibrator calibrator_;
  FakeGallery gallery_;
};

TEST_F(CalibratorTest, LabeledSetObservesTopScoreAndMateRank) {
  v1::LabeledSet set;
  *set.mutable_nonmated() = Rows({0.1f});
  set.add_nonmated_groups("g1");
  // Nearest s2 (rank 0), then s3 (rank 1: s2 comes first).
  *set.mutable_mated() = Rows({1.05f, 1.05f});
  set.add_mated_subject_ids("s2");
  set.add_mated_subject_ids("s3");
  auto obs = Calibrator::SearchLabeledSet(gallery_.Backend(), set, 10,
                                          CallLimits());
  ASSERT_TRUE(obs.ok()) << obs.status();
  ASSERT_EQ(obs->nonmated.size(), 1u);
  EXPECT_EQ(obs->nonmated[0].group, "g1");
  EXPECT_FLOAT_EQ(obs->nonmated[0].top1_score, std::cos(0.1f));
  ASSERT_EQ(obs->mated.size(), 2u);
  EXPECT_EQ(obs->mated[0].mate_rank, 0);
  EXPECT_FLOAT_EQ(obs->mated[0].mate_score, std::cos(0.05f));
  EXPECT_EQ(obs->mated[1].mate_rank, 1);
  EXPECT_EQ(obs->mated[1].group, "");
}

TEST_F(CalibratorTest, MateBeyondTopKIsMissed) {
  v1::LabeledSet set;
  *set.mutable_mated() = Rows({0.0f});
  set.add_mated_subject_ids("s3");  // third nearest
  auto obs =
      Calibrator::SearchLabeledSet(gallery_.Backend(), set, 2, CallLimits());
  ASSERT_TRUE(obs.ok()) << obs.status();
  EXPECT_EQ(obs->mated[0].mate_rank, -1);
}

TEST_F(CalibratorTest, CalibrateStoresAndReportsTheGalleryAsSearched) {
  v1::CalibrateRequest req;
  req.set_gallery("g");
  *req.mutable_labeled()->mutable_nonmated() = Rows({0.1f, 0.5f, 3.0f});
  auto report = calibrator_.Calibrate(gallery_.Backend(), req, CallLimits(),
                                      Policy());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->gallery(), "g");
  CalibrationStore::Ptr stored = store_.Find("g");
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(stored->meta().source, kSourceLabeled);
  EXPECT_EQ(stored->meta().gallery_size, 4u);
  EXPECT_EQ(stored->meta().gallery_version, 7u);
  EXPECT_EQ(stored->meta().top_k, kDefaultCalibrationTopK);
  EXPECT_EQ(stored->overall().nonmated_top1.size(), 3u);
}

TEST_F(CalibratorTest, BadLabelsAreRefusedBeforeAnySearch) {
  struct Case {
    std::function<void(v1::LabeledSet*)> edit;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](v1::LabeledSet* s) { s->add_nonmated_groups("a"); },
       "labeled.nonmated_groups: 1 labels for 2 probes"},
      {[](v1::LabeledSet* s) { s->clear_mated_subject_ids(); },
       "labeled.mated_subject_ids: 0 ids for 1 mated probes (need one per "
       "row)"},
      {[](v1::LabeledSet* s) {
         s->clear_nonmated();
         s->clear_mated();
         s->clear_mated_subject_ids();
       },
       "labeled: no probes (give non-mated and/or mated probes)"},
      {[](v1::LabeledSet* s) { s->mutable_mated()->set_cols(3); },
       "labeled.mated: wrong width"},
  };
  for (const Case& c : cases) {
    v1::CalibrateRequest req;
    req.set_gallery("g");
    v1::LabeledSet* set = req.mutable_labeled();
    *set->mutable_nonmated() = Rows({0.1f, 0.2f});
    *set->mutable_mated() = Rows({1.0f});
    set->add_mated_subject_ids("s2");
    c.edit(set);
    auto report = calibrator_.Calibrate(gallery_.Backend(), req, CallLimits(),
                                        Policy());
    EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument)
        << c.message;
    EXPECT_EQ(report.status().message(), c.message);
  }
  EXPECT_EQ(gallery_.calls(), 0);
  EXPECT_EQ(store_.Find("g"), nullptr);
}

TEST_F(CalibratorTest, RequestChecks) {
  v1::CalibrateRequest req;
  req.set_gallery("g");
  auto none = calibrator_.Calibrate(gallery_.Backend(), req, CallLimits(),
                                    Policy());
  EXPECT_EQ(none.status().message(), "source: give a labeled set or self_audit");
  *req.mutable_labeled()->mutable_nonmated() = Rows({0.1f});
  req.set_top_k(101);
  auto deep = calibrator_.Calibrate(gallery_.Backend(), req, CallLimits(),
                                    Policy());
  EXPECT_EQ(deep.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(deep.status().message(), "top_k: 101 is outside 1..100");
}

TEST_F(CalibratorTest, EmptyGalleryStoresNothing) {
  FakeGallery empty;
  v1::CalibrateRequest req;
  req.set_gallery("e");
  *req.mutable_labeled()->mutable_nonmated() = Rows({0.1f});
  auto report =
      calibrator_.Calibrate(empty.Backend("e"), req, CallLimits(), Policy());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(report.status().message(),
            "gallery 'e' is empty: nothing to calibrate");
  EXPECT_EQ(store_.Find("e"), nullptr);
}

TEST_F(CalibratorTest, SearchesInChunksOfMaxBatchAndAtMostTheChunkCap) {
  std::vector<float> angles(7, 0.3f);
  v1::LabeledSet set;
  *set.mutable_nonmated() = Rows(angles);
  CalibrationBackend backend = gallery_.Backend();
  backend.max_batch = 3;
  ASSERT_TRUE(
      Calibrator::SearchLabeledSet(backend, set, 10, CallLimits()).ok());
  EXPECT_EQ(gallery_.calls(), 3);  // 3 + 3 + 1
  EXPECT_EQ(gallery_.probes(), 7);

  FakeGallery big = gallery_;
  *set.mutable_nonmated() =
      Rows(std::vector<float>(kCalibrationChunk + 1, 0.3f));
  backend = big.Backend();
  backend.max_batch = 100000;
  ASSERT_TRUE(
      Calibrator::SearchLabeledSet(backend, set, 10, CallLimits()).ok());
  EXPECT_EQ(big.calls() - gallery_.calls(), 2);
}

TEST_F(CalibratorTest, CallerGoneStopsBetweenChunksAndStoresNothing) {
  v1::CalibrateRequest req;
  req.set_gallery("g");
  *req.mutable_labeled()->mutable_nonmated() =
      Rows(std::vector<float>(7, 0.3f));
  CalibrationBackend backend = gallery_.Backend();
  backend.max_batch = 3;
  CallLimits limits;
  limits.cancelled = [this] { return gallery_.calls() >= 1; };
  auto report = calibrator_.Calibrate(backend, req, limits, Policy());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(report.status().message(),
            "the caller cancelled: calibration stopped after 3 of 7 "
            "calibration searches");
  EXPECT_EQ(gallery_.calls(), 1);
  EXPECT_EQ(store_.Find("g"), nullptr);

  CallLimits passed;
  passed.deadline = absl::Now() - absl::Seconds(1);
  report = calibrator_.Calibrate(backend, req, passed, Policy());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(gallery_.calls(), 1);
}

TEST_F(CalibratorTest, SearchErrorIsTheCallsError) {
  v1::CalibrateRequest req;
  req.set_gallery("g");
  *req.mutable_labeled()->mutable_nonmated() = Rows({0.3f});
  CalibrationBackend backend = gallery_.Backend();
  backend.search = [](std::vector<float>, std::vector<CalibrationQuery>,
                      absl::Time)
      -> absl::StatusOr<std::vector<std::vector<Candidate>>> {
    return absl::UnavailableError("shard 1 (a:1) is down");
  };
  auto report = calibrator_.Calibrate(backend, req, CallLimits(), Policy());
  EXPECT_EQ(report.status(), absl::UnavailableError("shard 1 (a:1) is down"));
  EXPECT_EQ(store_.Find("g"), nullptr);
}

// The sample callback draws entries 1 (s1, alone) and 3 (s3, which has
// another entry, 4).
CalibrationSample SampleOf(const FakeGallery& gallery,
                           std::vector<EntryId> ids, uint32_t* asked) {
  return [&gallery, ids, asked](uint32_t n, uint64_t seed, absl::Time)
             -> absl::StatusOr<std::vector<SampledEntry>> {
    *asked = n;
    EXPECT_EQ(seed, 42u);
    std::vector<SampledEntry> out;
    for (EntryId id : ids) {
      for (const testing::FakeEntry& e : gallery.entries()) {
        if (e.id != id) continue;
        int same = 0;
        for (const testing::FakeEntry& o : gallery.entries()) {
          same += o.subject == e.subject;
        }
        out.push_back({e.id, e.subject, e.group, e.vector, same});
      }
    }
    return out;
  };
}

TEST_F(CalibratorTest, SelfAuditStepsOverTheProbeAndItsSubject) {
  uint32_t asked = 0;
  CalibrationBackend backend = gallery_.Backend();
  backend.sample = SampleOf(gallery_, {1, 3}, &asked);
  v1::SelfAudit audit;
  audit.set_sample_size(2);
  audit.set_seed(42);
  auto obs = Calibrator::SearchSelfAudit(backend, audit, 10, CallLimits());
  ASSERT_TRUE(obs.ok()) << obs.status();
  EXPECT_EQ(asked, 2u);
  ASSERT_EQ(obs->nonmated.size(), 2u);
  // Entry 1 (angle 0): the best other subject is s2 at angle 1.
  EXPECT_EQ(obs->nonmated[0].group, "x");
  EXPECT_FLOAT_EQ(obs->nonmated[0].top1_score, std::cos(1.0f));
  // Entry 3 (angle 2): its own subject's entry 4 is passed over; s2 next.
  EXPECT_FLOAT_EQ(obs->nonmated[1].top1_score, std::cos(1.0f));
  // Only s3 has a mate: entry 4, first after the probe itself.
  ASSERT_EQ(obs->mated.size(), 1u);
  EXPECT_EQ(obs->mated[0].mate_rank, 0);
  EXPECT_NEAR(obs->mated[0].mate_score, std::cos(0.1f), 1e-6);
}

TEST_F(CalibratorTest, SelfAuditChecks) {
  v1::CalibrateRequest req;
  req.set_gallery("g");
  req.mutable_self_audit()->set_seed(42);
  CalibrationBackend backend = gallery_.Backend();
  auto report = calibrator_.Calibrate(backend, req, CallLimits(), Policy());
  EXPECT_EQ(report.status().message(), "self_audit.sample_size: must be >= 1");
  req.mutable_self_audit()->set_sample_size(3);
  // No sampler: the role's refusal.
  backend.no_sample_status = absl::UnimplementedError("no sampler here");
  report = calibrator_.Calibrate(backend, req, CallLimits(), Policy());
  EXPECT_EQ(report.status(), absl::UnimplementedError("no sampler here"));
  FakeGallery one;
  one.Add(9, "s", "", 0.0f);
  report = calibrator_.Calibrate(one.Backend("one"), req, CallLimits(),
                                 Policy());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(report.status().message(),
            "self-audit needs at least 2 entries; gallery 'one' has 1");
  uint32_t asked = 0;
  backend.sample = SampleOf(gallery_, {1, 3}, &asked);
  report = calibrator_.Calibrate(backend, req, CallLimits(), Policy());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(store_.Find("g")->meta().source, kSourceSelfAudit);
}

TEST(CalibratorSaveTest, AFailedSaveFailsTheCallAndKeepsNothing) {
  testing::ScratchDir dir;
  storage::testing::FaultEnv env;
  auto store = CalibrationStore::Open(dir.path() + "/cal", &env);
  ASSERT_TRUE(store.ok()) << store.status();
  PolicyUnit policy(PolicyUnit::Options(), store->get(), nullptr);
  Calibrator calibrator(store->get(), &policy);
  FakeGallery gallery;
  gallery.Add(1, "s1", "", 0.0f);
  v1::CalibrateRequest req;
  req.set_gallery("g");
  *req.mutable_labeled()->mutable_nonmated() = Rows({0.5f});
  env.FailAt(1, storage::testing::Op::kSync, /*persistent=*/true);
  auto report =
      calibrator.Calibrate(gallery.Backend(), req, CallLimits(), Policy());
  EXPECT_FALSE(report.ok());
  EXPECT_EQ((*store)->Find("g"), nullptr);
  env.ClearFaults();
  report = calibrator.Calibrate(gallery.Backend(), req, CallLimits(), Policy());
  ASSERT_TRUE(report.ok()) << report.status();
  // On disk: a reopened store finds it.
  auto reopened = CalibrationStore::Open(dir.path() + "/cal");
  ASSERT_TRUE(reopened.ok());
  EXPECT_NE((*reopened)->Find("g"), nullptr);
}

}  // namespace
}  // namespace candor::telemetry
