// Many clients at once against one real server: enrollers, removers,
// unary and streaming searchers, and a compactor, all on one gallery. Run
// normally it checks linearizable results; built with -DCANDOR_TSAN=ON it
// is the ThreadSanitizer run of the server (label tsan, scripts/test.sh).
//
// What "consistent" means here: every SearchResponse names the gallery
// version it searched, and every acknowledged Enroll and Remove names the
// version it produced. Replaying the acknowledged mutations in version
// order rebuilds the gallery as it was at each searched version, and each
// probe's candidates must be exactly a top-k of that state (the float64
// brute force, ranks compared by score so near-ties may swap), with every
// candidate's score equal to its true cosine and its subject the one that
// was enrolled under its entry id.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/api/test_server.h"

namespace candor::testing {
namespace {

constexpr uint32_t kDim = 16;
constexpr int kTopK = 5;
constexpr char kGallery[] = "busy";

constexpr int kEnrollers = 4;
constexpr int kEnrollsPerEnroller = 25;
constexpr int kRowsPerEnroll = 8;
constexpr int kRows = kEnrollers * kEnrollsPerEnroller * kRowsPerEnroll;
constexpr int kRemovers = 2;
constexpr int kRemovesPerRemover = 40;
constexpr int kSearchers = 4;
// At least this many each, and on until the writers are done, so that
// searches overlap the writes however slow the disk's fsync is.
constexpr int kSearchesPerSearcher = 40;
constexpr int kStreamSearches = 40;
constexpr int kProbesPerSearch = 4;
constexpr double kScoreTolerance = 1e-4;

// Row r of the pregenerated set: subject "s<r>", a unit vector.
struct RowSet {
  std::vector<float> values;  // kRows x kDim, unit rows
  std::vector<double> exact;  // the same in double, normalized in double
};

RowSet MakeRows() {
  std::mt19937_64 rng(20261128);
  std::normal_distribution<double> normal(0.0, 1.0);
  RowSet set;
  set.values.resize(size_t{kRows} * kDim);
  set.exact.resize(size_t{kRows} * kDim);
  for (int r = 0; r < kRows; ++r) {
    double sum = 0;
    for (uint32_t c = 0; c < kDim; ++c) {
      const double x = normal(rng);
      set.exact[r * kDim + c] = x;
      sum += x * x;
    }
    const double inv = 1.0 / std::sqrt(sum);
    for (uint32_t c = 0; c < kDim; ++c) {
      set.exact[r * kDim + c] *= inv;
      set.values[r * kDim + c] = static_cast<float>(set.exact[r * kDim + c]);
    }
  }
  return set;
}

std::string SubjectOf(int row) { return absl::StrCat("s", row); }

// One acknowledged mutation.
struct Mutation {
  uint64_t version = 0;
  std::vector<std::pair<uint64_t, int>> added;  // entry id, row
  std::vector<uint64_t> removed;
};

struct Candidate {
  uint64_t id;
  std::string subject;
  double score;
};

// One answered search: its version, its probes and what came back.
struct SearchRecord {
  uint64_t version = 0;
  std::vector<double> probes;  // kProbesPerSearch x kDim, unit rows
  std::vector<std::vector<Candidate>> results;
};

// Probes: a pregenerated row (enrolled or not yet) with a little noise, so
// the nearest entry is usually that row's and the rest are ranked by
// genuine scores.
std::vector<float> MakeProbes(const RowSet& rows, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> pick(0, kRows - 1);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  std::vector<float> probes(size_t{kProbesPerSearch} * kDim);
  for (int p = 0; p < kProbesPerSearch; ++p) {
    const int row = pick(rng);
    for (uint32_t c = 0; c < kDim; ++c) {
      probes[p * kDim + c] = rows.values[row * kDim + c] + noise(rng);
    }
  }
  return probes;
}

v1::SearchRequest MakeSearch(const std::vector<float>& probes) {
  v1::SearchRequest req;
  req.set_gallery(kGallery);
  *req.mutable_probes() = PackRows(probes, kProbesPerSearch, kDim);
  req.set_threshold(-1.0f);
  req.set_top_k(kTopK);
  return req;
}

SearchRecord Record(const std::vector<float>& probes,
                    const v1::SearchResponse& resp) {
  SearchRecord rec;
  rec.version = resp.gallery_version();
  rec.probes.assign(probes.begin(), probes.end());
  for (int p = 0; p < kProbesPerSearch; ++p) {
    double* row = rec.probes.data() + static_cast<size_t>(p) * kDim;
    double norm = 0;
    for (uint32_t c = 0; c < kDim; ++c) norm += row[c] * row[c];
    const double inv = 1.0 / std::sqrt(norm);
    for (uint32_t c = 0; c < kDim; ++c) row[c] *= inv;
  }
  rec.results.resize(kProbesPerSearch);
  for (const v1::ProbeResult& result : resp.results()) {
    if (result.probe_index() >= kProbesPerSearch) continue;
    auto& out = rec.results[result.probe_index()];
    for (const v1::Candidate& c : result.candidates()) {
      out.push_back({c.entry_id(), c.subject_id(), c.score()});
    }
  }
  return rec;
}

// Cosine of a unit probe with row `row`.
double Cosine(const double* probe, const RowSet& rows, int row) {
  double dot = 0;
  for (uint32_t c = 0; c < kDim; ++c)
    dot += probe[c] * rows.exact[row * kDim + c];
  return dot;
}

class ConcurrencyTest : public ::testing::Test {
 protected:
  static api::ServerOptions Options() {
    api::ServerOptions options = TestServer::DefaultOptions();
    // Compactions start on their own shortly after removals, on top of the
    // explicit ones, so every writer of the gallery runs at once.
    options.store.gallery.compaction_delay = absl::Milliseconds(50);
    options.store.compaction_poll = absl::Milliseconds(20);
    return options;
  }

  ConcurrencyTest() : server_(Options()), rows_(MakeRows()) {}

  TestServer server_;
  const RowSet rows_;
};

TEST_F(ConcurrencyTest, EveryResultMatchesAGalleryStateThatExisted) {
  {
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest req;
    req.set_name(kGallery);
    req.set_dimension(kDim);
    v1::Gallery resp;
    ASSERT_TRUE(server_.stub().CreateGallery(&ctx, req, &resp).ok());
  }

  // Entry ids acknowledged and not yet handed to a remover.
  std::mutex pool_mu;
  std::vector<uint64_t> removable;
  bool enrollers_done = false;
  // Enrollers and removers are done (the searchers read it lock-free).
  std::atomic<bool> writes_done{false};
  std::atomic<int> searches_sent{0};

  std::vector<std::vector<Mutation>> mutations(kEnrollers + kRemovers);
  std::vector<std::vector<SearchRecord>> searches(kSearchers + 1);
  std::vector<std::vector<std::string>> errors(kEnrollers + kRemovers +
                                               kSearchers + 2);
  std::vector<std::thread> threads;

  for (int w = 0; w < kEnrollers; ++w) {
    threads.emplace_back([&, w] {
      for (int b = 0; b < kEnrollsPerEnroller; ++b) {
        const int first = (w * kEnrollsPerEnroller + b) * kRowsPerEnroll;
        v1::EnrollRequest req;
        req.set_gallery(kGallery);
        req.set_request_id(absl::StrCat("enroll-", first));
        std::vector<float> block(
            rows_.values.begin() + size_t{kDim} * first,
            rows_.values.begin() + size_t{kDim} * (first + kRowsPerEnroll));
        *req.mutable_vectors() = PackRows(block, kRowsPerEnroll, kDim);
        for (int r = first; r < first + kRowsPerEnroll; ++r) {
          req.add_subject_ids(SubjectOf(r));
          req.add_groups(r % 2 ? "odd" : "even");
        }
        grpc::ClientContext ctx;
        v1::EnrollResponse resp;
        grpc::Status status = server_.stub().Enroll(&ctx, req, &resp);
        if (!status.ok() || resp.entry_ids_size() != kRowsPerEnroll) {
          errors[w].push_back(absl::StrCat("enroll: ", status.error_message()));
          continue;
        }
        Mutation m;
        m.version = resp.version();
        for (int i = 0; i < kRowsPerEnroll; ++i) {
          m.added.push_back({resp.entry_ids(i), first + i});
        }
        mutations[w].push_back(std::move(m));
        std::lock_guard<std::mutex> lock(pool_mu);
        removable.insert(removable.end(), resp.entry_ids().begin(),
                         resp.entry_ids().end());
      }
    });
  }

  for (int r = 0; r < kRemovers; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937_64 rng(100 + r);
      int done = 0;
      while (done < kRemovesPerRemover) {
        std::vector<uint64_t> ids;
        bool finished = false;
        {
          std::lock_guard<std::mutex> lock(pool_mu);
          const size_t take = std::min<size_t>(1 + rng() % 3, removable.size());
          for (size_t i = 0; i < take; ++i) {
            const size_t at = rng() % removable.size();
            ids.push_back(removable[at]);
            removable[at] = removable.back();
            removable.pop_back();
          }
          finished = ids.empty() && enrollers_done;
        }
        if (finished) break;
        if (ids.empty()) {
          std::this_thread::yield();
          continue;
        }
        v1::RemoveRequest req;
        req.set_gallery(kGallery);
        for (uint64_t id : ids) req.mutable_entry_ids()->add_ids(id);
        grpc::ClientContext ctx;
        v1::RemoveResponse resp;
        grpc::Status status = server_.stub().Remove(&ctx, req, &resp);
        ++done;
        if (!status.ok()) {
          errors[kEnrollers + r].push_back(
              absl::StrCat("remove: ", status.error_message()));
          continue;
        }
        Mutation m;
        m.version = resp.version();
        m.removed.assign(resp.removed_entry_ids().begin(),
                         resp.removed_entry_ids().end());
        if (m.removed.size() != ids.size()) {
          errors[kEnrollers + r].push_back(absl::StrCat(
              "remove: asked ", ids.size(), ", removed ", m.removed.size()));
        }
        mutations[kEnrollers + r].push_back(std::move(m));
      }
    });
  }

  for (int s = 0; s < kSearchers; ++s) {
    threads.emplace_back([&, s] {
      std::mt19937_64 rng(200 + s);
      for (int i = 0; i < kSearchesPerSearcher || !writes_done.load(); ++i) {
        searches_sent.fetch_add(1);
        const std::vector<float> probes = MakeProbes(rows_, rng);
        grpc::ClientContext ctx;
        v1::SearchResponse resp;
        grpc::Status status =
            server_.stub().Search(&ctx, MakeSearch(probes), &resp);
        if (!status.ok()) {
          errors[kEnrollers + kRemovers + s].push_back(
              absl::StrCat("search: ", status.error_message()));
          continue;
        }
        searches[s].push_back(Record(probes, resp));
      }
    });
  }

  // One client pushing a steady flow through SearchStream.
  threads.emplace_back([&] {
    std::vector<std::string>& errs =
        errors[kEnrollers + kRemovers + kSearchers];
    std::mt19937_64 rng(300);
    grpc::ClientContext ctx;
    auto stream = server_.stub().SearchStream(&ctx);
    for (int i = 0; i < kStreamSearches; ++i) {
      const std::vector<float> probes = MakeProbes(rows_, rng);
      v1::SearchResponse resp;
      if (!stream->Write(MakeSearch(probes)) || !stream->Read(&resp)) {
        errs.push_back("stream: write or read failed");
        break;
      }
      searches[kSearchers].push_back(Record(probes, resp));
    }
    stream->WritesDone();
    grpc::Status status = stream->Finish();
    if (!status.ok()) errs.push_back("stream: " + status.error_message());
  });

  // Explicit compactions and reads of the gallery's description alongside.
  std::atomic<bool> stop_compactor{false};
  std::thread compactor([&] {
    std::vector<std::string>& errs =
        errors[kEnrollers + kRemovers + kSearchers + 1];
    while (!stop_compactor.load()) {
      grpc::ClientContext ctx;
      v1::CompactGalleryRequest req;
      req.set_name(kGallery);
      v1::CompactGalleryResponse resp;
      grpc::Status status = server_.stub().CompactGallery(&ctx, req, &resp);
      if (!status.ok()) errs.push_back("compact: " + status.error_message());
      grpc::ClientContext get_ctx;
      v1::GetGalleryRequest get;
      get.set_name(kGallery);
      v1::Gallery gallery;
      status = server_.stub().GetGallery(&get_ctx, get, &gallery);
      if (!status.ok()) errs.push_back("get: " + status.error_message());
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
  });

  for (int w = 0; w < kEnrollers; ++w) threads[w].join();
  {
    std::lock_guard<std::mutex> lock(pool_mu);
    enrollers_done = true;
  }
  for (int r = 0; r < kRemovers; ++r) threads[kEnrollers + r].join();
  writes_done = true;
  for (size_t t = kEnrollers + kRemovers; t < threads.size(); ++t) {
    threads[t].join();
  }
  stop_compactor = true;
  compactor.join();

  for (const auto& list : errors) {
    for (const std::string& e : list) ADD_FAILURE() << e;
  }

  // Replay the acknowledged mutations in version order.
  std::vector<Mutation> log;
  for (auto& list : mutations) {
    for (Mutation& m : list) log.push_back(std::move(m));
  }
  std::sort(log.begin(), log.end(), [](const Mutation& a, const Mutation& b) {
    return a.version < b.version;
  });
  for (size_t i = 1; i < log.size(); ++i) {
    ASSERT_NE(log[i - 1].version, log[i].version)
        << "two acknowledged mutations share version " << log[i].version;
  }
  std::vector<SearchRecord> answered;
  for (auto& list : searches) {
    for (SearchRecord& r : list) answered.push_back(std::move(r));
  }
  std::sort(answered.begin(), answered.end(),
            [](const SearchRecord& a, const SearchRecord& b) {
              return a.version < b.version;
            });
  ASSERT_EQ(answered.size(), size_t(searches_sent.load() + kStreamSearches));

  std::map<uint64_t, int> live;  // entry id -> row
  std::map<uint64_t, int> ever;  // every entry id ever acknowledged
  size_t applied = 0;
  int checked_probes = 0;
  for (const SearchRecord& rec : answered) {
    while (applied < log.size() && log[applied].version <= rec.version) {
      for (const auto& [id, row] : log[applied].added) {
        ASSERT_TRUE(ever.emplace(id, row).second)
            << "entry id " << id << " reused";
        live[id] = row;
      }
      for (uint64_t id : log[applied].removed) {
        ASSERT_EQ(live.erase(id), 1u)
            << "removed entry " << id << " was not live";
      }
      ++applied;
    }
    for (int p = 0; p < kProbesPerSearch; ++p) {
      const double* probe = rec.probes.data() + static_cast<size_t>(p) * kDim;
      std::vector<double> want;
      for (const auto& [id, row] : live)
        want.push_back(Cosine(probe, rows_, row));
      const size_t k = std::min(want.size(), size_t{kTopK});
      std::partial_sort(want.begin(), want.begin() + k, want.end(),
                        std::greater<double>());
      want.resize(k);

      const std::vector<Candidate>& got = rec.results[p];
      ASSERT_EQ(got.size(), want.size())
          << "version " << rec.version << " probe " << p << ": " << live.size()
          << " live entries";
      std::set<uint64_t> seen;
      for (size_t j = 0; j < got.size(); ++j) {
        const Candidate& c = got[j];
        EXPECT_TRUE(seen.insert(c.id).second) << "entry " << c.id << " twice";
        auto it = live.find(c.id);
        ASSERT_NE(it, live.end()) << "version " << rec.version << ": entry "
                                  << c.id << " was not live at that version";
        EXPECT_EQ(c.subject, SubjectOf(it->second));
        EXPECT_NEAR(c.score, Cosine(probe, rows_, it->second), kScoreTolerance)
            << "entry " << c.id << " at version " << rec.version;
        EXPECT_NEAR(c.score, want[j], kScoreTolerance)
            << "rank " << j << " at version " << rec.version;
      }
      ++checked_probes;
    }
  }
  EXPECT_EQ(checked_probes, int(answered.size()) * kProbesPerSearch);

  // The end state: everything enrolled, less everything removed.
  while (applied < log.size()) {
    for (const auto& [id, row] : log[applied].added) {
      ASSERT_TRUE(ever.emplace(id, row).second)
          << "entry id " << id << " reused";
      live[id] = row;
    }
    for (uint64_t id : log[applied].removed) live.erase(id);
    ++applied;
  }
  grpc::ClientContext ctx;
  v1::GetGalleryRequest get;
  get.set_name(kGallery);
  v1::Gallery gallery;
  ASSERT_TRUE(server_.stub().GetGallery(&ctx, get, &gallery).ok());
  EXPECT_EQ(gallery.size(), live.size());
  EXPECT_EQ(ever.size(), size_t{kRows});
  // The searches saw the gallery at many different versions, not just one.
  std::set<uint64_t> versions;
  for (const SearchRecord& rec : answered) versions.insert(rec.version);
  EXPECT_GT(versions.size(), 10u);
}

}  // namespace
}  // namespace candor::testing
