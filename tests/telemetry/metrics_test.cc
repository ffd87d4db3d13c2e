#include "server/telemetry/metrics.h"

#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/lib/loopback_http.h"

namespace candor::telemetry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, TextHasTheSeriesAfterUpdates) {
  absl::StatusOr<std::unique_ptr<Metrics>> m = Metrics::Create({});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->http_port(), 0);
  Metrics& metrics = **m;
  metrics.CountRequest("Search", absl::StatusCode::kOk);
  metrics.CountRequest("Search", absl::StatusCode::kOk);
  metrics.CountRequest("Search", absl::StatusCode::kFailedPrecondition);
  metrics.CountProbes("faces", 256);
  metrics.CountCandidates("faces", "B", 7);
  metrics.ObserveLatency(Metrics::Stage::kSearch, 0.003);
  metrics.ObserveLatency(Metrics::Stage::kRespond, 0.004);
  metrics.ObserveThreshold(0.42f);
  metrics.CountVerdict(VerdictOutcome::kWarn);
  metrics.SetPolicyFpir("faces", "A", 0.0123);
  metrics.SetBackendInfo("faiss-cpu", "");
  metrics.SetBackendInfo("gpu", "H100");

  const std::string text = metrics.RenderText();
  EXPECT_THAT(text, HasSubstr("candor_requests_total{code=\"OK\",rpc=\"Search\"} 2"));
  EXPECT_THAT(text, HasSubstr(
      "candor_requests_total{code=\"FAILED_PRECONDITION\",rpc=\"Search\"} 1"));
  EXPECT_THAT(text, HasSubstr("candor_probes_total{gallery=\"faces\"} 256"));
  EXPECT_THAT(text, HasSubstr("candor_candidates_total{gallery=\"faces\",group=\"B\"} 7"));
  // 3 ms lands in the 3.2 ms bucket (50 us * 2^6) and above, not below.
  EXPECT_THAT(text, HasSubstr(
      "candor_stage_latency_seconds_bucket{stage=\"search\",le=\"0.0032\"} 1"));
  EXPECT_THAT(text, HasSubstr(
      "candor_stage_latency_seconds_bucket{stage=\"search\",le=\"0.0016\"} 0"));
  EXPECT_THAT(text, HasSubstr("candor_stage_latency_seconds_count{stage=\"queue\"} 0"));
  EXPECT_THAT(text, HasSubstr("candor_requested_threshold_bucket{le=\"0.4\"} 0"));
  EXPECT_THAT(text, HasSubstr("candor_requested_threshold_bucket{le=\"0.45\"} 1"));
  EXPECT_THAT(text, HasSubstr("candor_policy_verdicts_total{outcome=\"warn\"} 1"));
  EXPECT_THAT(text, HasSubstr("candor_policy_verdicts_total{outcome=\"reject\"} 0"));
  EXPECT_THAT(text, HasSubstr(
      "candor_policy_fpir_ratio{gallery=\"faces\",group=\"A\"} 0.0123"));
  EXPECT_THAT(text, HasSubstr("stage=\"respond\""));
  EXPECT_THAT(text, Not(HasSubstr("stage=\"total\"")));
  EXPECT_THAT(text, HasSubstr("candor_backend_info{backend=\"gpu\",device=\"H100\"} 1"));
  EXPECT_THAT(text, Not(HasSubstr("faiss-cpu")));
}


Metrics::Options At(const std::string& address) {
  Metrics::Options options;
  options.listen_address = address;
  return options;
}

TEST(MetricsTest, ExposerServesMetricsOnLoopback) {
  absl::StatusOr<std::unique_ptr<Metrics>> m = Metrics::Create(At("127.0.0.1:0"));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_GT((*m)->http_port(), 0);
  (*m)->CountRequest("Enroll", absl::StatusCode::kOk);
  const std::string response = candor::testing::LoopbackHttpGet((*m)->http_port(), "/metrics");
  EXPECT_THAT(response, HasSubstr(" 200 "));
  EXPECT_THAT(response, HasSubstr("candor_requests_total{code=\"OK\",rpc=\"Enroll\"} 1"));
}

TEST(MetricsTest, UnusableAddressIsAnError) {
  absl::StatusOr<std::unique_ptr<Metrics>> first = Metrics::Create(At("127.0.0.1:0"));
  ASSERT_TRUE(first.ok());
  const std::string taken = "127.0.0.1:" + std::to_string((*first)->http_port());
  EXPECT_EQ(Metrics::Create(At(taken)).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(MetricsTest, ForgettingAGalleryRemovesEverySeriesOfIt) {
  auto m = Metrics::Create({});
  ASSERT_TRUE(m.ok());
  Metrics& metrics = **m;
  for (const std::string g : {"gone", "kept"}) {
    metrics.CountProbes(g, 3);
    metrics.CountCandidates(g, "A", 2);
    metrics.SetGalleryEntries(g, 10);
    metrics.SetGalleryMemory(g, 100, 0);
    metrics.SetCalibration(g, true, 5, false);
    metrics.SetErasureBacklog(g, 4);
    metrics.SetCompactionFailures(g, 2);
    metrics.SetPolicyThreshold(g, 0.5);
    metrics.SetPolicyFpir(g, "A", 0.01);
  }
  metrics.ForgetGallery("gone");
  std::string text = metrics.RenderText();
  EXPECT_THAT(text, Not(HasSubstr("gallery=\"gone\"")));
  EXPECT_THAT(text, HasSubstr("candor_probes_total{gallery=\"kept\"} 3"));
  EXPECT_THAT(text, HasSubstr("candor_calibration_age_seconds{gallery=\"kept\"} 5"));

  // RetainGalleries drops what is not live; a gallery used again comes back.
  metrics.RetainGalleries({});
  text = metrics.RenderText();
  EXPECT_THAT(text, Not(HasSubstr("gallery=\"kept\"")));
  metrics.CountProbes("kept", 1);
  EXPECT_THAT(metrics.RenderText(), HasSubstr("candor_probes_total{gallery=\"kept\"} 1"));
}

TEST(MetricsTest, CompactionFailuresFollowTheGallerysCount) {
  auto m = Metrics::Create({});
  ASSERT_TRUE(m.ok());
  (*m)->SetCompactionFailures("g", 2);
  (*m)->SetCompactionFailures("g", 2);
  (*m)->SetCompactionFailures("g", 5);
  (*m)->SetErasureBacklog("g", 7);
  const std::string text = (*m)->RenderText();
  EXPECT_THAT(text,
              HasSubstr("candor_compaction_failures_total{gallery=\"g\"} 5"));
  EXPECT_THAT(text,
              HasSubstr("candor_erasure_backlog_entries{gallery=\"g\"} 7"));
}

TEST(MetricsTest, UncalibratedIsStaleWithoutAnAge) {
  auto m = Metrics::Create({});
  ASSERT_TRUE(m.ok());
  (*m)->SetCalibration("g", true, 30, false);
  (*m)->SetCalibration("g", false, 0, false);
  const std::string text = (*m)->RenderText();
  EXPECT_THAT(text, HasSubstr("candor_calibration_stale{gallery=\"g\"} 1"));
  EXPECT_THAT(text, Not(HasSubstr("candor_calibration_age_seconds{")));
}

TEST(MetricsTest, RetainGroupsDropsGroupsBeyondTheCap) {
  auto m = Metrics::Create({});
  ASSERT_TRUE(m.ok());
  (*m)->CountCandidates("g", "A", 1);
  (*m)->CountCandidates("g", "B", 1);
  (*m)->RetainGroups("g", {"A", "other"});
  const std::string text = (*m)->RenderText();
  EXPECT_THAT(text, HasSubstr("group=\"A\""));
  EXPECT_THAT(text, Not(HasSubstr("group=\"B\"")));
}

TEST(MetricsTest, CollectHookAndProcessSeriesAtEachScrape) {
  auto m = Metrics::Create({});
  ASSERT_TRUE(m.ok());
  int calls = 0;
  (*m)->SetCollectHook([&] { (*m)->SetQueueDepth(++calls, 7); });
  auto wal = std::make_shared<SharedLatency>();
  wal->Observe(0.002);
  (*m)->SetWalFsyncLatency(wal);
  (*m)->RenderText();
  const std::string text = (*m)->RenderText();
  EXPECT_EQ(calls, 2);
  EXPECT_THAT(text, HasSubstr("candor_search_queue_requests 2"));
  EXPECT_THAT(text, HasSubstr("candor_search_queue_probes 7"));
  EXPECT_THAT(text, HasSubstr("candor_wal_fsync_seconds_count 1"));
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter"));
  // Resident memory of this test process: more than a megabyte.
  auto value = [&text](const std::string& name) {
    const std::string needle = "\n" + name + " ";
    const size_t at = text.find(needle);
    return at == std::string::npos ? -1.0
                                   : std::stod(text.substr(at + needle.size()));
  };
  EXPECT_GT(value("process_resident_memory_bytes"), 1e6);
  EXPECT_GT(value("process_open_fds"), 2);  // stdin, stdout, stderr at least
  const double started = value("process_start_time_seconds");
  const double now = static_cast<double>(time(nullptr));
  EXPECT_LT(started, now + 2);
  EXPECT_GT(started, now - 3600);  // this test started within the hour
}

// The contract with the dashboard and alert rules: every candor_ and
// process_ family the server exports is in expected-metrics.txt with its
// type and exactly its labels (and listed values), and every listed one is
// exported once each setter has run.
TEST(MetricsTest, ExportsExactlyTheExpectedMetrics) {
  struct Expected {
    std::string type;
    std::set<std::string> labels;
    std::map<std::string, std::set<std::string>> values;
  };
  std::map<std::string, Expected> expected;
  std::ifstream in(std::string(CANDOR_SOURCE_DIR) +
                   "/deploy/grafana/expected-metrics.txt");
  ASSERT_TRUE(in.good());
  for (std::string line; std::getline(in, line);) {
    line = std::string(absl::StripAsciiWhitespace(line.substr(0, line.find('#'))));
    if (line.empty()) continue;
    std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
    ASSERT_EQ(parts.size(), 3u) << line;
    Expected& e = expected[parts[0]];
    e.type = parts[1];
    if (parts[2] == "-") continue;
    for (absl::string_view label : absl::StrSplit(parts[2], ',')) {
      std::vector<std::string> kv = absl::StrSplit(label, '=');
      e.labels.insert(kv[0]);
      if (kv.size() == 2) {
        for (absl::string_view v : absl::StrSplit(kv[1], '|')) {
          e.values[kv[0]].insert(std::string(v));
        }
      }
    }
  }

  auto m = Metrics::Create({});
  ASSERT_TRUE(m.ok());
  Metrics& metrics = **m;
  metrics.CountRequest("Search", absl::StatusCode::kOk);
  metrics.ObserveRequestDuration("Search", 0.01);
  metrics.CountProbes("g", 1);
  metrics.CountCandidates("g", "A", 1);
  for (int i = 0; i < Metrics::kStages; ++i) {
    metrics.ObserveLatency(static_cast<Metrics::Stage>(i), 0.001);
  }
  metrics.ObserveThreshold(0.5f);
  metrics.ObserveBatchProbes(4);
  metrics.SetQueueDepth(0, 0);
  metrics.SetWalFsyncLatency(std::make_shared<SharedLatency>());
  metrics.SetGalleryEntries("g", 1);
  metrics.SetGalleryMemory("g", 1, 0);
  metrics.SetGalleryBytesPerEntry("g", "fp32", 2048);
  metrics.SetGalleryBytesPerEntry("h", "bf16", 1024);
  metrics.SetCalibration("g", true, 1, false);
  metrics.SetErasureBacklog("g", 2);
  metrics.SetCompactionFailures("g", 1);
  metrics.SetPolicyThreshold("g", 0.5);
  metrics.SetPolicyFpir("g", "A", 0.1);
  metrics.CountVerdict(VerdictOutcome::kPass);
  metrics.CountAuditWriteFailure();
  metrics.SetAuditCheckpoint(1);
  metrics.CountRecoveryDropped("g", 1, 10);
  for (const char* kind :
       {"gallery", "audit_log", "audit_checkpoint", "calibration"}) {
    metrics.SetQuarantined(kind, 0);
  }
  metrics.SetBackendInfo("faiss-cpu", "");
  metrics.SetBuildInfo("0.1.0", "abc", "OpenBLAS 0.3.21", "faiss-cpu");

  std::map<std::string, std::string> types;  // exported family -> type
  std::map<std::string, std::set<std::string>> labels;
  std::map<std::string, std::map<std::string, std::set<std::string>>> values;
  std::istringstream text(metrics.RenderText());
  for (std::string text_line; std::getline(text, text_line);) {
    absl::string_view line = text_line;
    if (absl::ConsumePrefix(&line, "# TYPE ")) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      types[parts[0]] = parts[1];
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    std::string name(line.substr(0, line.find_first_of("{ ")));
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      absl::string_view base = name;
      if (absl::ConsumeSuffix(&base, suffix) && types.count(std::string(base)) &&
          types[std::string(base)] == "histogram") {
        name = std::string(base);
        break;
      }
    }
    labels[name];  // a family without labels
    const size_t open = line.find('{');
    if (open == std::string::npos) continue;
    const std::string inside(line.substr(open + 1, line.find('}') - open - 1));
    for (absl::string_view pair : absl::StrSplit(inside, "\",", absl::SkipEmpty())) {
      std::vector<std::string> kv = absl::StrSplit(pair, absl::MaxSplits("=\"", 1));
      absl::string_view value = kv.size() == 2 ? absl::string_view(kv[1]) : "";
      absl::ConsumeSuffix(&value, "\"");
      if (kv[0] == "le") continue;
      labels[name].insert(kv[0]);
      values[name][kv[0]].insert(std::string(value));
    }
  }
  for (const auto& [name, type] : types) {
    if (!absl::StartsWith(name, "candor_") && !absl::StartsWith(name, "process_")) {
      continue;
    }
    auto e = expected.find(name);
    if (e == expected.end()) {
      ADD_FAILURE() << name << " is exported but not in expected-metrics.txt";
      continue;
    }
    EXPECT_EQ(type, e->second.type) << name;
    EXPECT_EQ(labels[name], e->second.labels) << name;
    for (const auto& [label, allowed] : e->second.values) {
      for (const std::string& v : values[name][label]) {
        EXPECT_TRUE(allowed.count(v)) << name << " " << label << "=" << v;
      }
      EXPECT_EQ(values[name][label], allowed)
          << name << ": every listed " << label << " is exported";
    }
  }
  for (const auto& [name, e] : expected) {
    EXPECT_TRUE(types.count(name)) << name << " is listed but not exported";
  }
}

}  // namespace
}  // namespace candor::telemetry
