// kill -9 the real candor-server while enrollments and removals stream in,
// many times; after each restart every acknowledged enrollment is there and
// searchable, no acknowledged removal has come back, and every enroll batch
// is either wholly present or wholly absent.
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/api/test_server.h"
#include "tests/integration/server_process.h"

namespace candor::testing {
namespace {

constexpr uint32_t kDim = 16;
constexpr int kBatchRows = 3;
constexpr int kRounds = 10;

struct Ledger {
  std::mutex mu;
  // Acknowledged batches: group label -> (entry ids, raw vectors).
  std::map<std::string, std::pair<std::vector<uint64_t>, std::vector<float>>> batches;
  // Batches sent but not acknowledged (the kill came first).
  std::set<std::string> unacked_batches;
  std::set<uint64_t> removed;          // acknowledged removals
  std::set<uint64_t> removal_pending;  // sent, not acknowledged
};

void Writer(v1::Candor::Stub* stub, Ledger* ledger, const std::string& tag,
            std::atomic<bool>* stop, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int n = 0; !stop->load(); ++n) {
    const std::string group = absl::StrCat(tag, "-", n);
    std::vector<float> vectors(kBatchRows * kDim);
    for (float& v : vectors) v = normal(rng);
    v1::EnrollRequest req;
    req.set_gallery("g");
    *req.mutable_vectors() = PackRows(vectors, kBatchRows, kDim);
    for (int i = 0; i < kBatchRows; ++i) {
      req.add_subject_ids(absl::StrCat(group, "/", i));
      req.add_groups(group);
    }
    {
      std::lock_guard<std::mutex> lock(ledger->mu);
      ledger->unacked_batches.insert(group);
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::EnrollResponse resp;
    if (!stub->Enroll(&ctx, req, &resp).ok()) return;  // server died
    std::lock_guard<std::mutex> lock(ledger->mu);
    ledger->unacked_batches.erase(group);
    ledger->batches[group] = {{resp.entry_ids().begin(), resp.entry_ids().end()},
                              vectors};
  }
}

void Remover(v1::Candor::Stub* stub, Ledger* ledger, std::atomic<bool>* stop,
             uint64_t seed) {
  std::mt19937_64 rng(seed);
  while (!stop->load()) {
    uint64_t victim = 0;
    {
      std::lock_guard<std::mutex> lock(ledger->mu);
      std::vector<uint64_t> live;
      for (const auto& [group, batch] : ledger->batches) {
        for (uint64_t id : batch.first) {
          if (!ledger->removed.count(id) && !ledger->removal_pending.count(id)) {
            live.push_back(id);
          }
        }
      }
      if (live.size() < 10) {
        victim = 0;
      } else {
        victim = live[rng() % live.size()];
        ledger->removal_pending.insert(victim);
      }
    }
    if (victim == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    v1::RemoveRequest req;
    req.set_gallery("g");
    req.mutable_entry_ids()->add_ids(victim);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::RemoveResponse resp;
    if (!stub->Remove(&ctx, req, &resp).ok()) return;
    std::lock_guard<std::mutex> lock(ledger->mu);
    ledger->removal_pending.erase(victim);
    ledger->removed.insert(victim);
  }
}

void Verify(v1::Candor::Stub* stub, Ledger* ledger) {
  grpc::ClientContext ctx;
  v1::GetGalleryRequest get;
  get.set_name("g");
  v1::Gallery gallery;
  grpc::Status got = stub->GetGallery(&ctx, get, &gallery);
  ASSERT_TRUE(got.ok()) << got.error_message();
  std::map<std::string, uint64_t> counts;
  for (const auto& g : gallery.groups()) counts[g.group()] = g.entries();

  std::lock_guard<std::mutex> lock(ledger->mu);
  uint64_t expected_min = 0;
  for (const auto& [group, batch] : ledger->batches) {
    int acked_removed = 0, pending = 0;
    for (uint64_t id : batch.first) {
      acked_removed += ledger->removed.count(id);
      pending += ledger->removal_pending.count(id);
    }
    const int have = static_cast<int>(counts[group]);
    EXPECT_LE(have, kBatchRows - acked_removed) << group << ": a removal came back";
    EXPECT_GE(have, kBatchRows - acked_removed - pending)
        << group << ": an acknowledged enrollment is missing";
    expected_min += kBatchRows - acked_removed - pending;
  }
  for (const std::string& group : ledger->unacked_batches) {
    const uint64_t have = counts.count(group) ? counts[group] : 0;
    EXPECT_TRUE(have == 0 || have == kBatchRows)
        << group << ": half-present batch (" << have << " of " << kBatchRows << ")";
    if (have == kBatchRows) counts.erase(group);  // durable but unacknowledged
  }
  EXPECT_GE(gallery.size(), expected_min);

  // Every acknowledged live entry is found by its own vector, and no
  // acknowledged removal is.
  for (const auto& [group, batch] : ledger->batches) {
    v1::SearchRequest search;
    search.set_gallery("g");
    *search.mutable_probes() = PackRows(batch.second, kBatchRows, kDim);
    search.set_threshold(0.9999f);
    search.set_top_k(3);
    grpc::ClientContext sctx;
    v1::SearchResponse resp;
    ASSERT_TRUE(stub->Search(&sctx, search, &resp).ok());
    for (int i = 0; i < kBatchRows; ++i) {
      const uint64_t id = batch.first[i];
      bool found = false;
      for (const auto& c : resp.results(i).candidates()) found |= c.entry_id() == id;
      if (ledger->removed.count(id)) {
        EXPECT_FALSE(found) << "removed entry " << id << " came back";
      } else if (!ledger->removal_pending.count(id)) {
        EXPECT_TRUE(found) << "acknowledged entry " << id << " is not searchable";
      }
    }
  }
}

TEST(CrashTest, AcknowledgedWritesSurviveKillNine) {
  const std::string data_dir = MakeTempDir("candor-crash");
  Ledger ledger;
  std::mt19937_64 rng(2024);
  {
    ServerProcess server(ServerBinary(), data_dir);
    ASSERT_TRUE(server.running());
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest create;
    create.set_name("g");
    create.set_dimension(kDim);
    v1::Gallery g;
    ASSERT_TRUE(server.NewStub()->CreateGallery(&ctx, create, &g).ok());
  }
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    ServerProcess server(ServerBinary(), data_dir);
    ASSERT_TRUE(server.running());
    auto stub = server.NewStub();
    Verify(stub.get(), &ledger);  // what the previous kill left
    if (::testing::Test::HasFailure()) break;
    // Removals cut off by a kill stay "pending" for good: applied or not,
    // both are correct, and the checks treat them as either.
    std::atomic<bool> stop{false};
    std::thread w1(Writer, stub.get(), &ledger, absl::StrCat("r", round, "a"), &stop, rng());
    std::thread w2(Writer, stub.get(), &ledger, absl::StrCat("r", round, "b"), &stop, rng());
    std::thread rm(Remover, stub.get(), &ledger, &stop, rng());
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 500));
    server.Kill();
    stop = true;
    w1.join();
    w2.join();
    rm.join();
  }
  {
    ServerProcess server(ServerBinary(), data_dir);
    auto stub = server.NewStub();
    Verify(stub.get(), &ledger);
    std::lock_guard<std::mutex> lock(ledger.mu);
    EXPECT_GT(ledger.batches.size(), size_t{kRounds}) << "too few writes acknowledged";
    EXPECT_GT(ledger.removed.size(), 0u) << "no removal was acknowledged";
  }
  RemoveTree(data_dir);
}

}  // namespace
}  // namespace candor::testing
