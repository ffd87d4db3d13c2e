// What the metrics observer makes of calls, batches and the gauges a role
// attaches.
#include "server/telemetry/metrics_observer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace candor::telemetry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class MetricsObserverTest : public ::testing::Test {
 protected:
  MetricsObserverTest() {
    metrics_ = *Metrics::Create({});
    observer_ = std::make_unique<MetricsObserver>(metrics_.get(), &store_, 2);
  }
  ~MetricsObserverTest() override { metrics_.reset(); }

  CalibrationStore store_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<MetricsObserver> observer_;
};

TEST_F(MetricsObserverTest, GroupsBeyondTheCapAreOther) {
  GaugeSource source;
  source.groups = [](const std::string&) {
    return std::map<std::string, uint64_t>{{"A", 10}, {"B", 5}, {"C", 1}};
  };
  observer_->Attach(source);
  EXPECT_EQ(observer_->GroupLabel("g", "A"), "A");
  EXPECT_EQ(observer_->GroupLabel("g", "B"), "B");
  EXPECT_EQ(observer_->GroupLabel("g", "C"), kOtherGroup);
}

TEST_F(MetricsObserverTest, ASearchCountsProbesAndCandidatesPerLabel) {
  GaugeSource source;
  source.groups = [](const std::string&) {
    return std::map<std::string, uint64_t>{{"A", 10}, {"B", 5}, {"C", 1}};
  };
  observer_->Attach(source);
  v1::SearchResponse response;
  v1::ProbeResult* result = response.add_results();
  for (const char* g : {"A", "C", "C"}) result->add_candidates()->set_group(g);
  CallRecord r;
  r.rpc = "Search";
  r.gallery = "g";
  r.probes = 3;
  r.search_response = &response;
  observer_->OnCall(r, MetricsObserver::CandidatesPerGroup(&response));
  // A failed search counts nothing.
  r.status = absl::UnavailableError("down");
  observer_->OnCall(r, {});
  const std::string text = metrics_->RenderText();
  EXPECT_THAT(text, HasSubstr("candor_probes_total{gallery=\"g\"} 3"));
  EXPECT_THAT(text, HasSubstr(
      "candor_candidates_total{gallery=\"g\",group=\"other\"} 2"));
  EXPECT_THAT(text, HasSubstr(
      "candor_candidates_total{gallery=\"g\",group=\"A\"} 1"));
}

TEST_F(MetricsObserverTest, ScrapesReadTheAttachedGaugesUntilDetached) {
  GaugeSource source;
  source.galleries = [] {
    GalleryGauges g;
    g.name = "faces";
    g.entries = 1234;
    g.groups = {{"A", 1234}};
    return std::vector<GalleryGauges>{g};
  };
  source.queue = [](int64_t* requests, int64_t* probes) {
    *requests = 3;
    *probes = 96;
  };
  observer_->Attach(source);
  std::string text = metrics_->RenderText();
  EXPECT_THAT(text, HasSubstr("candor_gallery_entries{gallery=\"faces\"} 1234"));
  observer_->Detach();
  observer_->ForgetGallery("faces");
  text = metrics_->RenderText();
  EXPECT_THAT(text, Not(HasSubstr("gallery=\"faces\"")));
}

TEST_F(MetricsObserverTest, BatchesFeedTheBatchHistogram) {
  batching::BatchEvent event;
  event.probes = 64;
  observer_->OnBatch(event);
  EXPECT_THAT(metrics_->RenderText(),
              HasSubstr("candor_batch_probes_count 1"));
}

}  // namespace
}  // namespace candor::telemetry
