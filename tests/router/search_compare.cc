#include "tests/router/search_compare.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace candor::testing {

void ExpectSameCandidates(const v1::SearchResponse& router,
                          const v1::SearchResponse& single,
                          const std::string& what) {
  ASSERT_EQ(router.results_size(), single.results_size()) << what;
  for (int p = 0; p < single.results_size(); ++p) {
    const auto& got = router.results(p).candidates();
    const auto& want = single.results(p).candidates();
    ASSERT_EQ(got.size(), want.size()) << what << ", probe " << p;
    // Walk runs of equal scores (in the oracle): each run must hold the
    // same subjects with the same scores, in any order.
    for (int begin = 0; begin < want.size();) {
      int end = begin + 1;
      while (end < want.size() && want[end].score() == want[begin].score()) {
        ++end;
      }
      std::vector<std::string> got_subjects, want_subjects;
      for (int r = begin; r < end; ++r) {
        EXPECT_NEAR(got[r].score(), want[r].score(), kScoreTolerance)
            << what << ", probe " << p << ", rank " << r;
        got_subjects.push_back(got[r].subject_id());
        want_subjects.push_back(want[r].subject_id());
      }
      std::sort(got_subjects.begin(), got_subjects.end());
      std::sort(want_subjects.begin(), want_subjects.end());
      EXPECT_EQ(got_subjects, want_subjects)
          << what << ", probe " << p << ", ranks " << begin << ".." << end - 1;
      begin = end;
    }
  }
}

}  // namespace candor::testing
