// A self-audit's sample through the router: each shard's share in
// proportion to its size (exact integer arithmetic), and the shares drawn
// from three real shard servers with SampleEntries, as global entry ids
// with the vectors, subjects and groups enrolled there.
#include "server/router/router_sample.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/router/placement.h"
#include "tests/api/test_server.h"

namespace candor::router {
namespace {

using ::candor::testing::PackRows;
using ::candor::testing::RandomRows;
using ::candor::testing::TestServer;

TEST(AllocateSampleTest, SharesFollowTheShardSizes) {
  EXPECT_EQ(AllocateSample({100, 200, 700}, 10),
            (std::vector<uint32_t>{1, 2, 7}));
  // 10 * {1, 1, 1} / 3 = 3.33 each: the one left over goes to shard 0.
  EXPECT_EQ(AllocateSample({1, 1, 1}, 2), (std::vector<uint32_t>{1, 1, 0}));
  EXPECT_EQ(AllocateSample({5, 5, 5}, 10), (std::vector<uint32_t>{4, 3, 3}));
  // Largest remainder first: 7 * {1, 2, 4} / 7 leaves none; 5 * ... / 7 =
  // 0.71, 1.43, 2.86: floors 0, 1, 2, remainders 5, 3, 6 (in sevenths).
  EXPECT_EQ(AllocateSample({1, 2, 4}, 5), (std::vector<uint32_t>{1, 1, 3}));
  // No more than the gallery holds: everything, empty shards included.
  EXPECT_EQ(AllocateSample({3, 0, 4}, 7), (std::vector<uint32_t>{3, 0, 4}));
  EXPECT_EQ(AllocateSample({3, 0, 4}, 1000), (std::vector<uint32_t>{3, 0, 4}));
  EXPECT_EQ(AllocateSample({0, 0}, 5), (std::vector<uint32_t>{0, 0}));
  // Products past 2^64 stay exact.
  const uint64_t big = uint64_t{1} << 47;
  EXPECT_EQ(AllocateSample({big, big, 2 * big}, 4000000000u),
            (std::vector<uint32_t>{1000000000u, 1000000000u, 2000000000u}));
}

TEST(AllocateSampleTest, SharesAddUpAndStayWithinOneOfTheirQuota) {
  std::mt19937_64 rng(9);
  for (int trial = 0; trial < 500; ++trial) {
    const int shards = 1 + static_cast<int>(rng() % 8);
    std::vector<uint64_t> sizes(static_cast<size_t>(shards));
    uint64_t total = 0;
    for (auto& s : sizes) total += (s = rng() % 1000);
    const auto k = static_cast<uint32_t>(1 + rng() % 1200);
    const std::vector<uint32_t> shares = AllocateSample(sizes, k);
    uint64_t sum = 0;
    for (int i = 0; i < shards; ++i) {
      const auto share = shares[static_cast<size_t>(i)];
      const uint64_t size = sizes[static_cast<size_t>(i)];
      sum += share;
      EXPECT_LE(share, size);
      if (total > k) {
        const double quota = static_cast<double>(k) * static_cast<double>(size) /
                             static_cast<double>(total);
        EXPECT_LT(std::abs(share - quota), 1.0) << "trial " << trial;
      }
    }
    EXPECT_EQ(sum, std::min<uint64_t>(k, total)) << "trial " << trial;
  }
}

TEST(ShardSampleSeedTest, OneSeedPerShardFixedAndDistinct) {
  std::set<uint64_t> seeds;
  for (int shard = 0; shard < 64; ++shard) {
    EXPECT_EQ(ShardSampleSeed(7, shard), ShardSampleSeed(7, shard));
    seeds.insert(ShardSampleSeed(7, shard));
    seeds.insert(ShardSampleSeed(8, shard));
  }
  EXPECT_EQ(seeds.size(), 128u);
}

constexpr int kDim = 6;
constexpr char kGallery[] = "faces";

struct Enrolled {
  std::string subject;
  std::string group;
  std::vector<float> vector;  // normalized
  int subject_entries = 0;
};

class RouterSampleTest : public ::testing::Test {
 protected:
  // Shard i holds sizes[i] entries (one Enroll each, under the test
  // server's batch limit of 64); subjects have 1 to 3 of them.
  void SetUp() override {
    const std::vector<int> sizes = {10, 20, 50};
    std::vector<std::string> addresses;
    for (size_t i = 0; i < sizes.size(); ++i) {
      shards_.push_back(std::make_unique<TestServer>());
      addresses.push_back(shards_.back()->address());
      Fill(static_cast<int>(i), sizes[i]);
    }
    set_ = std::make_unique<ShardSet>(addresses, 1 << 20);
  }

  void Fill(int shard, int rows) {
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest create;
    create.set_name(kGallery);
    create.set_dimension(kDim);
    v1::Gallery g;
    ASSERT_TRUE(shards_[static_cast<size_t>(shard)]
                    ->stub()
                    .CreateGallery(&ctx, create, &g)
                    .ok());
    const std::vector<float> values = RandomRows(rows, kDim, 100 + shard);
    v1::EnrollRequest enroll;
    enroll.set_gallery(kGallery);
    *enroll.mutable_vectors() = PackRows(values, rows, kDim);
    std::map<std::string, int> per_subject;
    for (int r = 0; r < rows; ++r) {
      // Three rows a subject, but every fifth row a subject of its own.
      const std::string subject =
          r % 5 == 0 ? absl::StrCat("solo", shard, "-", r)
                     : absl::StrCat("s", shard, "-", r / 3);
      enroll.add_subject_ids(subject);
      enroll.add_groups(r % 3 == 0 ? "x" : "y");
      ++per_subject[subject];
    }
    grpc::ClientContext ctx2;
    v1::EnrollResponse enrolled;
    grpc::Status s = shards_[static_cast<size_t>(shard)]->stub().Enroll(
        &ctx2, enroll, &enrolled);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (int r = 0; r < rows; ++r) {
      Enrolled e;
      e.subject = enroll.subject_ids(r);
      e.group = enroll.groups(r);
      e.vector.assign(values.begin() + r * kDim, values.begin() + (r + 1) * kDim);
      double norm = 0;
      for (float x : e.vector) norm += double{x} * x;
      for (float& x : e.vector) x = static_cast<float>(x / std::sqrt(norm));
      e.subject_entries = per_subject[e.subject];
      auto global = GlobalEntryId(shard, enrolled.entry_ids(r));
      ASSERT_TRUE(global.ok());
      enrolled_[*global] = e;
    }
  }

  absl::StatusOr<std::vector<telemetry::SampledEntry>> Draw(
      uint32_t n, uint64_t seed, const std::string& gallery = kGallery) {
    return SampleAcrossShards(*set_, gallery, n, seed,
                              absl::Now() + absl::Seconds(30));
  }

  static std::vector<EntryId> Ids(
      const std::vector<telemetry::SampledEntry>& sample) {
    std::vector<EntryId> ids;
    for (const auto& e : sample) ids.push_back(e.entry_id);
    return ids;
  }

  std::vector<std::unique_ptr<TestServer>> shards_;
  std::unique_ptr<ShardSet> set_;
  std::map<EntryId, Enrolled> enrolled_;
};

TEST_F(RouterSampleTest, EachShardGivesItsShareWithWhatWasEnrolledThere) {
  auto sample = Draw(16, 3);
  ASSERT_TRUE(sample.ok()) << sample.status();
  ASSERT_EQ(sample->size(), 16u);
  std::map<int, int> per_shard;
  std::set<EntryId> seen;
  for (const auto& e : *sample) {
    auto local = SplitEntryId(e.entry_id, 3);
    ASSERT_TRUE(local.ok()) << e.entry_id;
    ++per_shard[local->shard];
    EXPECT_TRUE(seen.insert(e.entry_id).second) << "drawn twice";
    ASSERT_TRUE(enrolled_.count(e.entry_id)) << e.entry_id;
    const Enrolled& want = enrolled_[e.entry_id];
    EXPECT_EQ(e.subject_id, want.subject);
    EXPECT_EQ(e.group, want.group);
    EXPECT_EQ(e.subject_entries, want.subject_entries);
    ASSERT_EQ(e.vector.size(), static_cast<size_t>(kDim));
    for (int d = 0; d < kDim; ++d) {
      EXPECT_NEAR(e.vector[static_cast<size_t>(d)],
                  want.vector[static_cast<size_t>(d)], 1e-6);
    }
  }
  // 16 of 80 over shards of 10, 20 and 50.
  EXPECT_EQ(per_shard, (std::map<int, int>{{0, 2}, {1, 4}, {2, 10}}));
}

TEST_F(RouterSampleTest, OneSeedDrawsTheSameAndTheWholeGalleryWhenAskedForMore) {
  auto a = Draw(30, 11);
  auto b = Draw(30, 11);
  auto c = Draw(30, 12);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(Ids(*a), Ids(*b));
  EXPECT_NE(Ids(*a), Ids(*c));
  auto all = Draw(1000, 1);
  ASSERT_TRUE(all.ok()) << all.status();
  const std::vector<EntryId> ids = Ids(*all);
  EXPECT_EQ(std::set<EntryId>(ids.begin(), ids.end()).size(), 80u);
  EXPECT_EQ(ids.size(), 80u);
}

TEST_F(RouterSampleTest, AnUnknownGalleryOrADownShardIsTheAnswer) {
  auto missing = Draw(5, 1, "nope");
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  auto none = Draw(0, 1);
  EXPECT_TRUE(absl::IsInvalidArgument(none.status())) << none.status();
  const std::string down = shards_[1]->address();
  shards_[1]->Stop();
  auto partial = Draw(5, 1);
  EXPECT_TRUE(absl::IsUnavailable(partial.status())) << partial.status();
  EXPECT_NE(std::string(partial.status().message()).find(down),
            std::string::npos)
      << partial.status();
}

}  // namespace
}  // namespace candor::router
