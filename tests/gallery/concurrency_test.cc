// Several threads enroll, remove, search and compact one gallery at once.
// Every acknowledged change must be in memory and on disk afterwards, each
// acknowledged change gets its own version, and searches stay consistent.
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "server/gallery/gallery.h"
#include "tests/gallery/test_util.h"

namespace candor::gallery {
namespace {

constexpr int kDim = 16;
constexpr int kEnrollThreads = 3;
constexpr int kBatchesPerThread = 25;
constexpr int kRowsPerBatch = 2;

struct Acked {
  absl::Mutex mu;
  // Live entries (acknowledged enrollments minus acknowledged removals).
  std::map<EntryId, std::vector<float>> live ABSL_GUARDED_BY(mu);
  // Entries thread 0 enrolled: never removed, used as search probes.
  std::vector<EntryId> stable ABSL_GUARDED_BY(mu);
  std::vector<uint64_t> versions ABSL_GUARDED_BY(mu);
};

void ExpectGalleryHolds(const Gallery& g,
                        const std::map<EntryId, std::vector<float>>& live) {
  std::vector<EntryMeta> entries = g.Entries();
  ASSERT_EQ(entries.size(), live.size());
  std::vector<float> v(kDim);
  for (const auto& [id, vector] : live) {
    ASSERT_TRUE(g.GetVector(id, v.data()).ok()) << "entry " << id;
    EXPECT_EQ(v, vector) << "entry " << id;
  }
}

TEST(ConcurrencyTest, ConcurrentEnrollRemoveSearchCompact) {
  testing::ScratchDir scratch;
  const std::string dir = scratch.path() + "/g";
  GalleryConfig config;
  config.name = "g";
  config.index.dimension = kDim;
  auto created = Gallery::Create(dir, config, GalleryOptions());
  ASSERT_TRUE(created.ok()) << created.status();
  Gallery& g = **created;
  Acked acked;
  std::atomic<int> enrollers_left{kEnrollThreads};
  std::atomic<int> failures{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < kEnrollThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatchesPerThread; ++b) {
        const uint32_t seed = 1000 * t + b;
        const std::vector<float> rows =
            testing::RandomUnitRows(kRowsPerBatch, kDim, seed);
        const std::string subject = "t" + std::to_string(t);
        auto r = g.Enroll(rows, {subject, subject}, {},
                          "req-" + std::to_string(seed));
        if (!r.ok() || r->replayed) {
          ++failures;
          continue;
        }
        absl::MutexLock lock(&acked.mu);
        acked.versions.push_back(r->version);
        for (int i = 0; i < kRowsPerBatch; ++i) {
          acked.live[r->entry_ids[i]] = std::vector<float>(
              rows.begin() + i * kDim, rows.begin() + (i + 1) * kDim);
          if (t == 0) acked.stable.push_back(r->entry_ids[i]);
        }
      }
      --enrollers_left;
    });
  }
  // Remover: removes entries of threads 1.. once they are acknowledged.
  threads.emplace_back([&] {
    std::mt19937 rng(7);
    while (enrollers_left > 0) {
      EntryId victim = 0;
      {
        absl::MutexLock lock(&acked.mu);
        std::set<EntryId> stable(acked.stable.begin(), acked.stable.end());
        std::vector<EntryId> candidates;
        for (const auto& [id, v] : acked.live) {
          if (!stable.count(id)) candidates.push_back(id);
        }
        if (!candidates.empty()) victim = candidates[rng() % candidates.size()];
      }
      if (victim == 0) {
        std::this_thread::yield();
        continue;
      }
      auto r = g.RemoveEntries({victim});
      if (!r.ok()) {
        ++failures;
        continue;
      }
      absl::MutexLock lock(&acked.mu);
      acked.live.erase(victim);
      acked.versions.push_back(r->version);
    }
  });
  // Searchers: an acknowledged, never-removed entry finds itself first.
  for (int s = 0; s < 2; ++s) {
    threads.emplace_back([&, s] {
      std::mt19937 rng(100 + s);
      while (enrollers_left > 0) {
        EntryId probe_id = 0;
        std::vector<float> probe;
        {
          absl::MutexLock lock(&acked.mu);
          if (!acked.stable.empty()) {
            probe_id = acked.stable[rng() % acked.stable.size()];
            probe = acked.live[probe_id];
          }
        }
        if (probe_id == 0) {
          std::this_thread::yield();
          continue;
        }
        std::vector<ProbeQuery> q(1);
        q[0].top_k = 1;
        q[0].threshold = 0.5f;
        auto hits = g.Search(probe, q);
        if (!hits.ok() || hits->candidates[0].size() != 1 ||
            hits->candidates[0][0].entry_id != probe_id ||
            hits->candidates[0][0].subject_id != "t0") {
          ++failures;
        }
      }
    });
  }
  // Compactor: snapshots while writes continue.
  threads.emplace_back([&] {
    while (enrollers_left > 0) {
      if (!g.Compact().ok()) ++failures;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  for (auto& th : threads) th.join();

  EXPECT_EQ(failures.load(), 0);
  absl::MutexLock lock(&acked.mu);
  // Each acknowledged change has its own version, 1..N with no gap.
  std::set<uint64_t> versions(acked.versions.begin(), acked.versions.end());
  EXPECT_EQ(versions.size(), acked.versions.size());
  EXPECT_EQ(*versions.rbegin(), acked.versions.size());
  EXPECT_EQ(g.Info().version, acked.versions.size());
  ExpectGalleryHolds(g, acked.live);

  created->reset();
  auto reopened = Gallery::Open(dir, GalleryOptions());
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  ExpectGalleryHolds(**reopened, acked.live);
  EXPECT_EQ((*reopened)->Info().version, acked.versions.size());
}

// Retries of one request id racing each other: exactly one applies.
TEST(ConcurrencyTest, RacingRetriesApplyOnce) {
  testing::ScratchDir scratch;
  GalleryConfig config;
  config.name = "g";
  config.index.dimension = kDim;
  auto g = Gallery::Create(scratch.path() + "/g", config, GalleryOptions());
  ASSERT_TRUE(g.ok());
  const std::vector<float> row = testing::RandomUnitRows(1, kDim, 3);
  std::vector<std::vector<EntryId>> ids(4);
  std::atomic<int> fresh{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto r = (*g)->Enroll(row, {"s"}, {}, "same-request");
      ASSERT_TRUE(r.ok());
      ids[t] = r->entry_ids;
      if (!r->replayed) ++fresh;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(fresh.load(), 1);
  for (int t = 1; t < 4; ++t) EXPECT_EQ(ids[t], ids[0]);
  EXPECT_EQ((*g)->Info().size, 1u);
}

}  // namespace
}  // namespace candor::gallery
