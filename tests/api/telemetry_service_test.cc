// Threshold telemetry through the real server, on the synthetic generator's
// data (groups whose identities cluster differently, as NIST found for real
// face recognizers): calibration counts equal an independent computation,
// the ACLU finding's shape appears at a low threshold, and the policy holds,
// rejects, warns and notices staleness.
#include <algorithm>
#include <cmath>
#include <map>

#include "clients/cli/synth.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/api/test_server.h"

namespace candor::testing {
namespace {

constexpr int kTopK = 5;

api::ServerOptions Options() {
  api::ServerOptions options = TestServer::DefaultOptions();
  options.limits.max_batch = 4096;
  options.limits.max_message_bytes = 32 << 20;
  return options;
}

SynthOptions DataOptions() {
  SynthOptions o;
  o.subjects = 450;
  o.per_subject = 2;
  o.dim = 32;
  o.groups = {"A", "B", "C"};
  o.seed = 17;
  o.mated_probes = 450;
  o.nonmated_subjects = 900;
  // Wider spread between groups than the default, so that the impostor
  // distributions differ clearly at this small size.
  o.homogeneity_base = 0.10;
  o.homogeneity_step = 0.25;
  return o;
}

std::vector<double> Normalized(const std::vector<float>& v, int64_t rows, int64_t dim) {
  std::vector<double> out(v.begin(), v.end());
  for (int64_t r = 0; r < rows; ++r) {
    double s = 0;
    for (int64_t c = 0; c < dim; ++c) s += out[r * dim + c] * out[r * dim + c];
    s = std::sqrt(s);
    for (int64_t c = 0; c < dim; ++c) out[r * dim + c] /= s;
  }
  return out;
}

// The independent oracle: every probe's scores against every entry in
// double precision.
struct Oracle {
  std::vector<double> gallery;
  std::vector<std::string> subjects;
  int64_t dim;

  std::vector<std::pair<double, size_t>> Ranked(const std::vector<double>& probes,
                                                int64_t p) const {
    std::vector<std::pair<double, size_t>> scores;
    for (size_t e = 0; e < subjects.size(); ++e) {
      double dot = 0;
      for (int64_t c = 0; c < dim; ++c) dot += gallery[e * dim + c] * probes[p * dim + c];
      scores.push_back({dot, e});
    }
    std::sort(scores.begin(), scores.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    return scores;
  }
};

class TelemetryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto data = Synthesize(DataOptions());
    ASSERT_TRUE(data.ok()) << data.status();
    data_ = *std::move(data);
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest create;
    create.set_name("faces");
    create.set_dimension(static_cast<uint32_t>(data_.gallery.vectors.cols));
    v1::Gallery g;
    ASSERT_TRUE(server_.stub().CreateGallery(&ctx, create, &g).ok());
    Enroll(data_.gallery);
  }

  void Enroll(const SynthSet& set, const std::string& suffix = "") {
    v1::EnrollRequest req;
    req.set_gallery("faces");
    *req.mutable_vectors() = PackRows(set.vectors.values, set.vectors.rows, set.vectors.cols);
    for (size_t i = 0; i < set.subject_ids.size(); ++i) {
      req.add_subject_ids(set.subject_ids[i] + suffix);
      req.add_groups(set.groups[i]);
    }
    grpc::ClientContext ctx;
    v1::EnrollResponse resp;
    grpc::Status s = server_.stub().Enroll(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  v1::CalibrationReport CalibrateLabeled() {
    v1::CalibrateRequest req;
    req.set_gallery("faces");
    req.set_top_k(kTopK);
    v1::LabeledSet* set = req.mutable_labeled();
    const auto& n = data_.nonmated;
    *set->mutable_nonmated() = PackRows(n.vectors.values, n.vectors.rows, n.vectors.cols);
    for (const auto& g : n.groups) set->add_nonmated_groups(g);
    const auto& m = data_.mated;
    *set->mutable_mated() = PackRows(m.vectors.values, m.vectors.rows, m.vectors.cols);
    for (size_t i = 0; i < m.groups.size(); ++i) {
      set->add_mated_groups(m.groups[i]);
      set->add_mated_subject_ids(m.subject_ids[i]);
    }
    grpc::ClientContext ctx;
    v1::CalibrationReport report;
    grpc::Status s = server_.stub().Calibrate(&ctx, req, &report);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return report;
  }

  grpc::Status SetPolicy(double max_fpir, v1::Policy::Action action) {
    v1::SetPolicyRequest req;
    req.set_gallery("faces");
    req.mutable_policy()->set_max_fpir(max_fpir);
    req.mutable_policy()->set_action(action);
    grpc::ClientContext ctx;
    v1::Gallery g;
    return server_.stub().SetPolicy(&ctx, req, &g);
  }

  grpc::Status Search(std::optional<float> threshold, v1::SearchResponse* resp) {
    v1::SearchRequest req;
    req.set_gallery("faces");
    const auto& n = data_.nonmated;
    *req.mutable_probes() = PackRows(
        std::vector<float>(n.vectors.values.begin(),
                           n.vectors.values.begin() + 8 * n.vectors.cols),
        8, n.vectors.cols);
    if (threshold) req.set_threshold(*threshold);
    req.set_top_k(3);
    grpc::ClientContext ctx;
    return server_.stub().Search(&ctx, req, resp);
  }

  static const v1::GroupRates* Group(const v1::ThresholdReport& r, const std::string& g) {
    for (const auto& gr : r.groups()) {
      if (gr.group() == g) return &gr;
    }
    return nullptr;
  }

  TestServer server_{Options()};
  SynthData data_;
};

TEST_F(TelemetryServiceTest, CalibrationCountsEqualAnIndependentComputation) {
  CalibrateLabeled();
  const int64_t dim = data_.gallery.vectors.cols;
  Oracle oracle{Normalized(data_.gallery.vectors.values, data_.gallery.vectors.rows, dim),
                data_.gallery.subject_ids, dim};
  const auto non = Normalized(data_.nonmated.vectors.values, data_.nonmated.vectors.rows, dim);
  const auto mated = Normalized(data_.mated.vectors.values, data_.mated.vectors.rows, dim);
  std::vector<double> non_top1;
  std::vector<double> mate_score;  // -inf when not within top_k
  for (int64_t p = 0; p < data_.nonmated.vectors.rows; ++p) {
    non_top1.push_back(oracle.Ranked(non, p)[0].first);
  }
  for (int64_t p = 0; p < data_.mated.vectors.rows; ++p) {
    auto ranked = oracle.Ranked(mated, p);
    double score = -INFINITY;
    for (int r = 0; r < kTopK; ++r) {
      if (oracle.subjects[ranked[r].second] == data_.mated.subject_ids[p]) {
        score = ranked[r].first;
        break;
      }
    }
    mate_score.push_back(score);
  }
  // Thresholds kept away from every score, so float vs double rounding
  // cannot move a count.
  std::vector<float> grid;
  for (float t : {0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f}) {
    auto near = [&](const std::vector<double>& v) {
      return std::any_of(v.begin(), v.end(), [&](double s) { return std::abs(s - t) < 1e-4; });
    };
    while (near(non_top1) || near(mate_score)) t += 3e-4f;
    grid.push_back(t);
  }
  v1::GetCalibrationRequest req;
  req.set_gallery("faces");
  for (float t : grid) req.add_thresholds(t);
  grpc::ClientContext ctx;
  v1::CalibrationReport report;
  ASSERT_TRUE(server_.stub().GetCalibration(&ctx, req, &report).ok());
  ASSERT_EQ(report.groups_size(), 3);
  for (const auto& group : report.groups()) {
    ASSERT_EQ(group.points_size(), static_cast<int>(grid.size()));
    for (int i = 0; i < group.points_size(); ++i) {
      const double t = group.points(i).threshold();
      uint64_t non_n = 0, fp = 0, mated_n = 0, fn = 0;
      for (size_t p = 0; p < non_top1.size(); ++p) {
        if (data_.nonmated.groups[p] != group.group()) continue;
        ++non_n;
        fp += non_top1[p] >= t;
      }
      for (size_t p = 0; p < mate_score.size(); ++p) {
        if (data_.mated.groups[p] != group.group()) continue;
        ++mated_n;
        fn += !(mate_score[p] >= t);
      }
      SCOPED_TRACE(group.group() + " at " + std::to_string(t));
      EXPECT_EQ(group.points(i).fpir().searches(), non_n);
      EXPECT_EQ(group.points(i).fpir().errors(), fp);
      EXPECT_EQ(group.points(i).fnir().searches(), mated_n);
      EXPECT_EQ(group.points(i).fnir().errors(), fn);
      EXPECT_LE(group.points(i).fpir().ci_low(), group.points(i).fpir().rate());
      EXPECT_GE(group.points(i).fpir().ci_high(), group.points(i).fpir().rate());
    }
  }
}

TEST_F(TelemetryServiceTest, AcluShapeAtALowThresholdAndPolicyThresholdHoldsEveryGroup) {
  const v1::CalibrationReport calibration = CalibrateLabeled();
  // A careless threshold: the highest grid point at which at least a fifth
  // of all non-mated searches still return someone.
  float low = -1.0f;
  for (const auto& point : calibration.overall().points()) {
    if (point.fpir().rate() >= 0.2) low = std::max(low, point.threshold());
  }
  ASSERT_GT(low, -1.0f);
  v1::SearchResponse low_resp;
  ASSERT_TRUE(Search(low, &low_resp).ok());
  const v1::ThresholdReport& r = low_resp.report();
  EXPECT_TRUE(r.calibration().present());
  EXPECT_EQ(r.source(), v1::ThresholdReport::REQUEST);
  EXPECT_FLOAT_EQ(r.threshold(), low);
  // Many impostors match, and the tightest-clustered group (C) far more
  // often than the loosest (A).
  EXPECT_GE(r.fpir().rate(), 0.2);
  ASSERT_NE(Group(r, "A"), nullptr);
  ASSERT_NE(Group(r, "C"), nullptr);
  EXPECT_GT(Group(r, "C")->fpir().rate(), Group(r, "A")->fpir().rate());
  EXPECT_TRUE(r.fpir_disparity().defined());
  EXPECT_GT(r.fpir_disparity().ratio(), 1.0);
  EXPECT_EQ(r.fpir_disparity().max_group(), "C");
  EXPECT_GT(r.garbe(), 0.0);
  EXPECT_EQ(r.verdict().outcome(), v1::PolicyVerdict::NO_POLICY);

  ASSERT_TRUE(SetPolicy(0.001, v1::Policy::REJECT).ok());
  v1::SearchResponse at_policy;
  grpc::Status s = Search(std::nullopt, &at_policy);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::ThresholdReport& p = at_policy.report();
  EXPECT_EQ(p.source(), v1::ThresholdReport::POLICY);
  EXPECT_GT(p.threshold(), low);
  EXPECT_EQ(p.verdict().outcome(), v1::PolicyVerdict::PASS);
  for (const auto& g : p.groups()) {
    EXPECT_LE(g.fpir().rate(), 0.001) << g.group();
  }
}

TEST_F(TelemetryServiceTest, PolicyRejectsAndWarnsWithTheNumbers) {
  CalibrateLabeled();
  ASSERT_TRUE(SetPolicy(0.001, v1::Policy::REJECT).ok());
  v1::SearchResponse resp;
  grpc::Status rejected = Search(0.3f, &resp);
  EXPECT_EQ(rejected.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(rejected.error_message().find("max_fpir 0.001"), std::string::npos)
      << rejected.error_message();
  EXPECT_NE(rejected.error_message().find("group C"), std::string::npos)
      << rejected.error_message();

  ASSERT_TRUE(SetPolicy(0.001, v1::Policy::WARN).ok());
  grpc::Status warned = Search(0.3f, &resp);
  ASSERT_TRUE(warned.ok()) << warned.error_message();
  EXPECT_EQ(resp.report().verdict().outcome(), v1::PolicyVerdict::WARN);
  EXPECT_GT(resp.report().verdict().violations_size(), 0);
}

TEST_F(TelemetryServiceTest, MissingCalibrationIsAFailedPrecondition) {
  ASSERT_TRUE(SetPolicy(0.001, v1::Policy::WARN).ok());
  v1::SearchResponse resp;
  grpc::Status s = Search(0.5f, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("calibration"), std::string::npos);
  grpc::ClientContext ctx;
  v1::GetCalibrationRequest req;
  req.set_gallery("faces");
  v1::CalibrationReport report;
  EXPECT_EQ(server_.stub().GetCalibration(&ctx, req, &report).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(TelemetryServiceTest, GrowthMakesTheCalibrationStaleWithAnExtrapolation) {
  CalibrateLabeled();
  v1::SearchResponse fresh;
  ASSERT_TRUE(Search(0.3f, &fresh).ok());
  EXPECT_FALSE(fresh.report().calibration().stale());
  Enroll(data_.gallery, "-again");  // doubles the gallery
  v1::SearchResponse grown;
  ASSERT_TRUE(Search(0.3f, &grown).ok());
  const auto& r = grown.report();
  EXPECT_TRUE(r.calibration().stale());
  EXPECT_EQ(r.calibration().gallery_size_now(), 2 * r.calibration().gallery_size_at_calibration());
  const v1::GroupRates* a = Group(r, "A");
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->has_fpir_extrapolated());
  EXPECT_TRUE(a->fpir_extrapolated().estimated());
  const double f0 = a->fpir().rate();
  EXPECT_NEAR(a->fpir_extrapolated().rate(), 1.0 - (1.0 - f0) * (1.0 - f0), 1e-9);
  // The calibration survives a restart.
  server_.Restart();
  v1::SearchResponse after;
  ASSERT_TRUE(Search(0.3f, &after).ok());
  EXPECT_TRUE(after.report().calibration().present());
  EXPECT_EQ(after.report().fpir().errors(), grown.report().fpir().errors());
}

TEST_F(TelemetryServiceTest, SelfAuditAgreesWithTheLabeledSetWithinConfidence) {
  const v1::CalibrationReport labeled = CalibrateLabeled();
  v1::CalibrateRequest req;
  req.set_gallery("faces");
  req.set_top_k(kTopK);
  req.mutable_self_audit()->set_sample_size(900);
  req.mutable_self_audit()->set_seed(3);
  grpc::ClientContext ctx;
  v1::CalibrationReport audit;
  grpc::Status s = server_.stub().Calibrate(&ctx, req, &audit);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(audit.calibration().source(), "self-audit");
  ASSERT_EQ(audit.groups_size(), labeled.groups_size());
  int compared = 0;
  for (int g = 0; g < audit.groups_size(); ++g) {
    for (int i = 0; i < audit.groups(g).points_size(); ++i) {
      const v1::Rate& x = audit.groups(g).points(i).fpir();
      const v1::Rate& y = labeled.groups(g).points(i).fpir();
      if (x.searches() == 0 || y.searches() == 0) continue;
      // Two estimates of one rate: their 95% intervals overlap.
      EXPECT_LE(x.ci_low(), y.ci_high()) << audit.groups(g).group() << " T="
                                         << audit.groups(g).points(i).threshold();
      EXPECT_LE(y.ci_low(), x.ci_high()) << audit.groups(g).group() << " T="
                                         << audit.groups(g).points(i).threshold();
      ++compared;
    }
  }
  EXPECT_GT(compared, 30);
}

}  // namespace
}  // namespace candor::testing
