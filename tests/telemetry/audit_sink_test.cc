// The audit sink both roles record their calls through: the record's
// fields, the answer held until it is durable, and a failed write refusing
// the call.
#include "server/telemetry/audit_sink.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/telemetry/policy.h"
#include "tests/storage/fault_env.h"
#include "tests/telemetry/telemetry_test_util.h"

namespace candor::telemetry {
namespace {

using ::testing::HasSubstr;

std::string ReadAll(const std::string& dir) {
  std::string all;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(f.path());
    std::stringstream s;
    s << in.rdbuf();
    all += s.str();
  }
  return all;
}

absl::Status RecordAndWait(AuditSink& sink, const CallRecord& record) {
  absl::Notification done;
  absl::Status out;
  sink.Record(record, [&](absl::Status s) {
    out = s;
    done.Notify();
  });
  done.WaitForNotification();
  return out;
}

class AuditSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metrics_ = *Metrics::Create({});
    observer_ = std::make_unique<MetricsObserver>(metrics_.get(), &store_, 4);
  }
  AuditSink::Options Options(storage::Env* env = storage::Env::Default()) {
    AuditSink::Options o;
    o.dir = dir_.path() + "/audit";
    o.key_file = dir_.path() + "/audit.key";
    o.checkpoint_file = dir_.path() + "/checkpoint.json";
    o.env = env;
    return o;
  }

  testing::ScratchDir dir_;
  CalibrationStore store_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<MetricsObserver> observer_;
};

TEST_F(AuditSinkTest, SearchRecordCarriesTheDecisionAndCandidates) {
  v1::SearchRequest request;
  v1::SearchResponse response;
  v1::ProbeResult* result = response.add_results();
  v1::Candidate* c = result->add_candidates();
  c->set_entry_id(17);
  c->set_group("A");
  ThresholdDecision decision;
  decision.threshold = 0.42f;
  decision.source = v1::ThresholdReport::POLICY;
  decision.verdict.outcome = VerdictOutcome::kWarn;
  CallRecord r;
  r.rpc = "Search";
  r.caller.identity = "alice";
  r.gallery = "faces";
  r.probes = 1;
  r.search_request = &request;
  r.search_response = &response;
  r.decision = &decision;
  const AuditRecord a = AuditSink::AuditRecordOf(
      r, MetricsObserver::CandidatesPerGroup(&response));
  EXPECT_EQ(a.operation, "Search");
  EXPECT_EQ(a.identity, "alice");
  EXPECT_EQ(a.threshold, 0.42f);
  EXPECT_EQ(a.threshold_source, "policy");
  ASSERT_TRUE(a.verdict.has_value());
  EXPECT_EQ(a.verdict->outcome, VerdictOutcome::kWarn);
  EXPECT_EQ(a.candidates_per_group.at("A"), 1u);
  ASSERT_EQ(a.matched_entry_ids.size(), 1u);
  EXPECT_EQ(a.matched_entry_ids[0], std::vector<EntryId>{17});
}

TEST_F(AuditSinkTest, PolicyRejectionIsARejectVerdict) {
  v1::SearchRequest request;
  request.set_threshold(0.1f);
  Verdict v;
  v.outcome = VerdictOutcome::kReject;
  v.violations.push_back("FPIR too high");
  CallRecord r;
  r.rpc = "Search";
  r.search_request = &request;
  r.status = ToRejectError(v);
  const AuditRecord a = AuditSink::AuditRecordOf(r, {});
  ASSERT_TRUE(a.verdict.has_value());
  EXPECT_EQ(a.verdict->outcome, VerdictOutcome::kReject);
  EXPECT_EQ(a.threshold, 0.1f);
  EXPECT_EQ(a.threshold_source, "request");
}

TEST_F(AuditSinkTest, RecordIsDurableBeforeTheCallIsAnswered) {
  auto sink = AuditSink::Open(Options(), observer_.get());
  ASSERT_TRUE(sink.ok()) << sink.status();
  CallRecord r;
  r.rpc = "SetPolicy";
  r.gallery = "faces";
  r.start = r.end = absl::Now();
  r.details["requested"] = "clear";
  ASSERT_TRUE(RecordAndWait(**sink, r).ok());
  const std::string written = ReadAll(dir_.path() + "/audit");
  EXPECT_THAT(written, HasSubstr("\"SetPolicy\""));
  EXPECT_THAT(written, HasSubstr("\"faces\""));
  EXPECT_THAT(metrics_->RenderText(),
              HasSubstr("candor_requests_total{code=\"OK\",rpc=\"SetPolicy\"} 1"));
}

TEST_F(AuditSinkTest, AnUnwrittenRecordRefusesTheCall) {
  storage::testing::FaultEnv env;
  auto sink = AuditSink::Open(Options(&env), observer_.get());
  ASSERT_TRUE(sink.ok()) << sink.status();
  env.FailAt(1, storage::testing::Op::kAppend, /*persistent=*/true);
  CallRecord r;
  r.rpc = "Search";
  r.start = r.end = absl::Now();
  const absl::Status s = RecordAndWait(**sink, r);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(),
              HasSubstr("the audit log cannot record this call, so it is "
                        "refused"));
  const std::string text = metrics_->RenderText();
  EXPECT_THAT(text, HasSubstr(
      "candor_requests_total{code=\"UNAVAILABLE\",rpc=\"Search\"} 1"));
  EXPECT_THAT(text, HasSubstr("candor_audit_write_failures_total 1"));
  env.ClearFaults();
}

}  // namespace
}  // namespace candor::telemetry
