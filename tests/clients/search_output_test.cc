#include "clients/cli/search_output.h"

#include "gtest/gtest.h"

namespace candor::cli {
namespace {

v1::ProbeResult TwoCandidates() {
  v1::ProbeResult result;
  result.set_probe_index(3);
  result.set_ref("case-7");
  result.set_group("B");
  v1::Candidate* a = result.add_candidates();
  a->set_entry_id(18446744073709551615ull);
  a->set_subject_id("s\"1");
  a->set_group("B");
  a->set_score(0.75f);
  v1::Candidate* b = result.add_candidates();
  b->set_entry_id(2);
  b->set_subject_id("s2");
  b->set_score(0.5f);
  return result;
}

TEST(SearchOutputTest, KeysInDocumentedOrderWithOffset) {
  const std::string line =
      ProbeResultJson(TwoCandidates(), 100, true, true).dump();
  EXPECT_EQ(line,
            "{\"probe\":103,\"ref\":\"case-7\",\"group\":\"B\",\"candidates\":"
            "[{\"entry_id\":18446744073709551615,\"subject_id\":\"s\\\"1\","
            "\"group\":\"B\",\"score\":0.75},{\"entry_id\":2,\"subject_id\":"
            "\"s2\",\"group\":\"\",\"score\":0.5}]}");
}

TEST(SearchOutputTest, RefAndGroupOnlyWhenGiven) {
  const nlohmann::ordered_json json =
      ProbeResultJson(TwoCandidates(), 0, false, false);
  EXPECT_FALSE(json.contains("ref"));
  EXPECT_FALSE(json.contains("group"));
  EXPECT_EQ(json["probe"], 3);
  EXPECT_EQ(json["candidates"].size(), 2u);
}

TEST(SearchOutputTest, NoCandidatesIsEmptyArray) {
  v1::ProbeResult result;
  EXPECT_EQ(ProbeResultJson(result, 0, false, false).dump(),
            "{\"probe\":0,\"candidates\":[]}");
}

}  // namespace
}  // namespace candor::cli
