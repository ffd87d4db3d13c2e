#include "bench/load/response_check.h"

#include "gtest/gtest.h"

namespace candor::load {
namespace {

v1::SearchRequest Request(int probes, uint32_t top_k, float threshold) {
  v1::SearchRequest request;
  request.mutable_probes()->set_rows(probes);
  request.set_top_k(top_k);
  request.set_threshold(threshold);
  return request;
}

// One result per probe with the given scores, entry ids 1, 2, ...
v1::SearchResponse Response(int probes, std::initializer_list<float> scores) {
  v1::SearchResponse response;
  for (int i = 0; i < probes; ++i) {
    v1::ProbeResult* result = response.add_results();
    result->set_probe_index(i);
    uint64_t id = 1;
    for (float s : scores) {
      v1::Candidate* c = result->add_candidates();
      c->set_entry_id(id++);
      c->set_score(s);
    }
  }
  return response;
}

TEST(CheckSearchResponse, AcceptsAWellFormedAnswer) {
  EXPECT_EQ(
      CheckSearchResponse(Request(2, 3, 0.5f), Response(2, {1.0f, 0.7f, 0.5f}),
                          CheckOptions{}),
      "");
  EXPECT_EQ(CheckSearchResponse(Request(2, 3, 0.5f), Response(2, {1.0f, 0.7f}),
                                CheckOptions{true}),
            "");
}

// Each case breaks one rule and must be named for it.
TEST(CheckSearchResponse, FindsEachKindOfWrongAnswer) {
  const v1::SearchRequest request = Request(2, 2, 0.5f);
  auto check = [&](const v1::SearchResponse& r, bool self = false) {
    return CheckSearchResponse(request, r, CheckOptions{self});
  };
  EXPECT_NE(check(Response(1, {0.9f})).find("1 results for 2 probes"),
            std::string::npos);
  v1::SearchResponse swapped = Response(2, {0.9f});
  swapped.mutable_results(0)->set_probe_index(1);
  EXPECT_NE(check(swapped).find("names probe 1"), std::string::npos);
  EXPECT_NE(check(Response(2, {0.9f, 0.8f, 0.7f})).find("for top_k 2"),
            std::string::npos);
  EXPECT_NE(check(Response(2, {0.9f, 0.4f})).find("below the threshold"),
            std::string::npos);
  EXPECT_NE(check(Response(2, {0.6f, 0.9f})).find("not best first"),
            std::string::npos);
  v1::SearchResponse twice = Response(2, {0.9f, 0.8f});
  twice.mutable_results(1)->mutable_candidates(1)->set_entry_id(1);
  EXPECT_NE(check(twice).find("entry 1 twice"), std::string::npos);
  EXPECT_NE(check(Response(2, {0.99f}), true).find("did not find itself"),
            std::string::npos);
  EXPECT_NE(check(Response(2, {}), true).find("no candidates"),
            std::string::npos);
}

TEST(CheckSearchResponse, NoThresholdMeansNoFloor) {
  v1::SearchRequest request = Request(1, 2, 0.0f);
  request.clear_threshold();
  EXPECT_EQ(CheckSearchResponse(request, Response(1, {-0.2f, -0.5f}), {}), "");
}

}  // namespace
}  // namespace candor::load
