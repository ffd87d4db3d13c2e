// Damaged copies of a real data folder: a server fills one (three galleries
// with enrollments and removals, one compacted so that a snapshot and log
// segments both exist, a calibration, an audit log over two starts), then
// a few hundred seeded copies each get one file damaged (every kind of
// file; bytes flipped, the file cut short, junk appended) and a server
// starts on each, in this process. Every start must come up (unless the
// audit key itself is damaged, which it refuses naming the key), serve no
// entry under the wrong subject and no removed entry, serve every gallery
// whose files were not touched in full, and account for every
// acknowledged entry it does not serve: its gallery quarantined, or a torn
// final record reported (GetGallery and Stats say so).
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/api/test_server.h"
#include "tests/lib/loopback_http.h"

namespace candor::testing {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kDim = 16;
constexpr int kCases = 300;
const char* const kGalleries[] = {"alpha", "beta", "gamma"};

struct Entry {
  std::string subject;
  std::vector<float> vector;
};

// What the reference folder acknowledged, per gallery.
struct Expected {
  std::map<uint64_t, Entry> live;
  std::map<uint64_t, Entry> removed;
};

api::ServerOptions OptionsFor(const std::string& data_dir) {
  api::ServerOptions options = TestServer::DefaultOptions();
  options.store.data_dir = data_dir;
  options.audit_dir = data_dir + "/audit";
  options.drain_timeout = absl::Milliseconds(100);
  return options;
}

std::unique_ptr<v1::Candor::Stub> StubFor(const api::CandorServer& server) {
  return v1::Candor::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", server.port()),
      grpc::InsecureChannelCredentials()));
}

class Reference {
 public:
  explicit Reference(const std::string& dir) : dir_(dir) {}

  // Fills the folder through a real server, over two starts.
  void Build() {
    {
      auto server = api::CandorServer::Start(OptionsFor(dir_));
      ASSERT_TRUE(server.ok()) << server.status();
      auto stub = StubFor(**server);
      for (const char* name : kGalleries) Create(*stub, name);
      for (int i = 0; i < 3; ++i) Enroll(*stub, "alpha", 10);
      RemoveSome(*stub, "alpha", 4);
      Compact(*stub, "alpha");  // a snapshot; later records in a new segment
      Enroll(*stub, "alpha", 8);
      RemoveSome(*stub, "alpha", 2);
      for (int i = 0; i < 2; ++i) Enroll(*stub, "beta", 12);
      RemoveSome(*stub, "beta", 3);
      Enroll(*stub, "gamma", 20);
      Calibrate(*stub, "gamma");
      (*server)->Shutdown();
    }
    {  // A second start: a second audit file, more log.
      auto server = api::CandorServer::Start(OptionsFor(dir_));
      ASSERT_TRUE(server.ok()) << server.status();
      auto stub = StubFor(**server);
      Enroll(*stub, "beta", 6);
      Enroll(*stub, "gamma", 4);
      (*server)->Shutdown();
    }
  }

  const std::map<std::string, Expected>& expected() const { return expected_; }

 private:
  void Create(v1::Candor::Stub& stub, const std::string& name) {
    grpc::ClientContext ctx;
    v1::CreateGalleryRequest req;
    req.set_name(name);
    req.set_dimension(kDim);
    v1::Gallery resp;
    ASSERT_TRUE(stub.CreateGallery(&ctx, req, &resp).ok());
  }

  void Enroll(v1::Candor::Stub& stub, const std::string& gallery, int rows) {
    const std::vector<float> values = RandomRows(rows, kDim, ++seed_);
    v1::EnrollRequest req;
    req.set_gallery(gallery);
    *req.mutable_vectors() = PackRows(values, rows, kDim);
    std::vector<std::string> subjects;
    for (int r = 0; r < rows; ++r) {
      subjects.push_back(absl::StrCat(gallery, "-subject-", next_subject_++));
      req.add_subject_ids(subjects.back());
    }
    grpc::ClientContext ctx;
    v1::EnrollResponse resp;
    const grpc::Status s = stub.Enroll(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(resp.entry_ids_size(), rows);
    for (int r = 0; r < rows; ++r) {
      expected_[gallery].live[resp.entry_ids(r)] = {
          subjects[r], std::vector<float>(values.begin() + r * kDim,
                                          values.begin() + (r + 1) * kDim)};
    }
  }

  // Removes the `n` lowest live entry ids.
  void RemoveSome(v1::Candor::Stub& stub, const std::string& gallery, int n) {
    Expected& e = expected_[gallery];
    v1::RemoveRequest req;
    req.set_gallery(gallery);
    auto it = e.live.begin();
    for (int i = 0; i < n && it != e.live.end(); ++i, ++it) {
      req.mutable_entry_ids()->add_ids(it->first);
    }
    grpc::ClientContext ctx;
    v1::RemoveResponse resp;
    ASSERT_TRUE(stub.Remove(&ctx, req, &resp).ok());
    for (uint64_t id : resp.removed_entry_ids()) {
      e.removed[id] = e.live[id];
      e.live.erase(id);
    }
  }

  void Compact(v1::Candor::Stub& stub, const std::string& gallery) {
    grpc::ClientContext ctx;
    v1::CompactGalleryRequest req;
    req.set_name(gallery);
    v1::CompactGalleryResponse resp;
    ASSERT_TRUE(stub.CompactGallery(&ctx, req, &resp).ok());
  }

  void Calibrate(v1::Candor::Stub& stub, const std::string& gallery) {
    grpc::ClientContext ctx;
    v1::CalibrateRequest req;
    req.set_gallery(gallery);
    req.mutable_self_audit()->set_sample_size(10);
    req.mutable_self_audit()->set_seed(7);
    v1::CalibrationReport resp;
    const grpc::Status s = stub.Calibrate(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  const std::string dir_;
  std::map<std::string, Expected> expected_;
  uint64_t seed_ = 100;
  int next_subject_ = 0;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// The kind of a data folder file, for the tally.
std::string KindOf(const std::string& relative) {
  const std::string name = fs::path(relative).filename().string();
  if (absl::StartsWith(name, "wal-")) return "wal";
  if (absl::StartsWith(name, "snapshot-")) return "snapshot";
  if (name == "MANIFEST") return "manifest";
  if (absl::EndsWith(name, ".cal")) return "calibration";
  if (absl::StartsWith(relative, "audit/")) return "audit_log";
  if (absl::StrContains(name, "checkpoint")) return "audit_checkpoint";
  if (absl::StrContains(name, "key")) return "audit_key";
  return "other";
}

// The gallery a file belongs to ("" for none).
std::string GalleryOf(const std::string& relative) {
  const std::vector<std::string> parts = [&] {
    std::vector<std::string> out;
    for (const auto& p : fs::path(relative)) out.push_back(p.string());
    return out;
  }();
  if (parts.size() >= 2 && parts[0] == "galleries") return parts[1];
  return "";
}

// Damages `path` in place: flips bytes, cuts it short or appends junk.
std::string Damage(const fs::path& path, std::mt19937_64& rng) {
  std::string bytes = ReadAll(path);
  const int how = std::uniform_int_distribution<int>(0, 2)(rng);
  if (how == 0 && !bytes.empty()) {
    const int flips = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int i = 0; i < flips; ++i) {
      const size_t at =
          std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng);
      bytes[at] = static_cast<char>(
          bytes[at] ^ (1 << std::uniform_int_distribution<int>(0, 7)(rng)));
    }
    WriteAll(path, bytes);
    return "flip";
  }
  if (how == 1 && !bytes.empty()) {
    bytes.resize(std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng));
    WriteAll(path, bytes);
    return "truncate";
  }
  const int junk = std::uniform_int_distribution<int>(1, 64)(rng);
  for (int i = 0; i < junk; ++i) {
    bytes.push_back(static_cast<char>(rng()));
  }
  WriteAll(path, bytes);
  return "append";
}

class DamagedCopiesTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = MakeTempDir("candor-damaged-copies"); }
  void TearDown() override { RemoveTree(root_); }
  std::string root_;
};

TEST_F(DamagedCopiesTest, EveryStartServesWhatItCanAndReportsTheRest) {
  const std::string base = root_ + "/base";
  Reference reference(base);
  reference.Build();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());

  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(base)) {
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), base));
  }
  std::sort(files.begin(), files.end());
  std::set<std::string> kinds;
  for (const std::string& f : files) kinds.insert(KindOf(f));
  for (const char* kind : {"wal", "snapshot", "manifest", "calibration",
                           "audit_log", "audit_checkpoint", "audit_key"}) {
    ASSERT_TRUE(kinds.count(kind)) << "the reference folder has no " << kind;
  }

  std::mt19937_64 rng(20261202);
  std::map<std::string, int> tally;
  std::map<std::string, int> damaged_kinds;
  uint64_t removed_back = 0;
  for (int c = 0; c < kCases; ++c) {
    const std::string copy = absl::StrCat(root_, "/case-", c);
    fs::copy(base, copy, fs::copy_options::recursive);
    // Every kind of file in turn, a random file of that kind.
    const std::vector<std::string> all_kinds(kinds.begin(), kinds.end());
    const std::string kind = all_kinds[c % all_kinds.size()];
    std::vector<std::string> of_kind;
    for (const std::string& f : files) {
      if (KindOf(f) == kind) of_kind.push_back(f);
    }
    const std::string target = of_kind[std::uniform_int_distribution<size_t>(
        0, of_kind.size() - 1)(rng)];
    const std::string how = Damage(fs::path(copy) / target, rng);
    ++damaged_kinds[kind];
    const std::string what = absl::StrCat("case ", c, ": ", how, " ", target);
    SCOPED_TRACE(what);

    auto server = api::CandorServer::Start(OptionsFor(copy));
    if (!server.ok()) {
      // A damaged audit key is a different key: refused, naming it.
      EXPECT_EQ(kind, "audit_key") << server.status();
      EXPECT_THAT(std::string(server.status().message()),
                  ::testing::AnyOf(::testing::HasSubstr("key"),
                                   ::testing::HasSubstr("audit")));
      ++tally["refused: damaged audit key"];
      RemoveTree(copy);
      continue;
    }
    auto stub = StubFor(**server);
    v1::Stats stats;
    {
      grpc::ClientContext ctx;
      ASSERT_TRUE(stub->GetStats(&ctx, v1::GetStatsRequest(), &stats).ok());
    }
    std::set<std::string> quarantined_galleries;
    std::set<std::string> sealed_kinds;
    for (const v1::Quarantined& q : stats.quarantined()) {
      EXPECT_TRUE(fs::exists(q.path())) << q.path();
      if (q.kind() == "gallery") {
        quarantined_galleries.insert(q.name());
      } else {
        sealed_kinds.insert(q.kind());
      }
    }
    bool dropped = false;
    for (const auto& [name, expected] : reference.expected()) {
      const bool touched = GalleryOf(target) == name;
      if (quarantined_galleries.count(name)) {
        EXPECT_TRUE(touched) << name << " quarantined, its files untouched";
        continue;
      }
      v1::Gallery info;
      {
        grpc::ClientContext ctx;
        v1::GetGalleryRequest req;
        req.set_name(name);
        const grpc::Status s = stub->GetGallery(&ctx, req, &info);
        ASSERT_TRUE(s.ok()) << name << ": " << s.error_message();
      }
      // Search every acknowledged live vector for its own entry.
      std::vector<float> probes;
      std::vector<uint64_t> ids;
      for (const auto& [id, entry] : expected.live) {
        probes.insert(probes.end(), entry.vector.begin(), entry.vector.end());
        ids.push_back(id);
      }
      v1::SearchRequest req;
      req.set_gallery(name);
      *req.mutable_probes() = PackRows(probes, ids.size(), kDim);
      req.set_top_k(3);
      req.set_threshold(-1.0f);
      req.set_omit_report(true);
      grpc::ClientContext ctx;
      v1::SearchResponse resp;
      const grpc::Status s = stub->Search(&ctx, req, &resp);
      ASSERT_TRUE(s.ok()) << name << ": " << s.error_message();
      ASSERT_EQ(resp.results_size(), static_cast<int>(ids.size()));
      int missing = 0;
      std::set<uint64_t> back;  // removed entries served again
      for (int p = 0; p < resp.results_size(); ++p) {
        bool found = false;
        for (const v1::Candidate& cand : resp.results(p).candidates()) {
          auto it = expected.live.find(cand.entry_id());
          if (it == expected.live.end()) {
            it = expected.removed.find(cand.entry_id());
            ASSERT_NE(it, expected.removed.end())
                << name << ": unknown entry " << cand.entry_id();
            back.insert(cand.entry_id());
          }
          EXPECT_EQ(cand.subject_id(), it->second.subject)
              << name << ": entry " << cand.entry_id() << " under the wrong "
              << "subject";
          found = found || cand.entry_id() == ids[p];
        }
        missing += found ? 0 : 1;
      }
      // A removal is an acknowledged record too: when damage cuts it off
      // the log, its entries come back, and only a report may say so.
      if (!back.empty()) {
        EXPECT_GT(info.recovery_dropped_records(), 0u)
            << name << ": " << back.size()
            << " removed entries back without a report";
        removed_back += back.size();
      }
      EXPECT_EQ(info.size() + missing, expected.live.size() + back.size())
          << name;
      if (missing > 0) {
        EXPECT_TRUE(touched) << name << ": entries missing, files untouched";
        EXPECT_GT(info.recovery_dropped_records(), 0u)
            << name << ": " << missing << " acknowledged entries missing "
            << "without a report";
        EXPECT_GT(info.recovery_dropped_bytes(), 0u);
      }
      if (info.recovery_dropped_records() > 0) dropped = true;
      if (!touched) {
        EXPECT_EQ(missing, 0) << name;
        EXPECT_EQ(info.recovery_dropped_records(), 0u) << name;
      }
      if (name == "gamma") {
        // The calibration: present, or its file sealed aside and reported.
        EXPECT_TRUE(info.calibrated() || sealed_kinds.count("calibration"))
            << "calibration gone without a report";
      }
    }
    std::string outcome;
    if (!quarantined_galleries.empty()) {
      outcome = "started; gallery quarantined";
    } else if (dropped) {
      outcome = "started; torn tail dropped and reported";
    } else if (!sealed_kinds.empty()) {
      outcome = absl::StrCat("started; sealed aside: ",
                             absl::StrJoin(sealed_kinds, " + "));
    } else {
      outcome = "started clean (damage not in anything start-up reads)";
    }
    ++tally[outcome];
    std::cout << what << " -> " << outcome << "\n";
    (*server)->Shutdown();
    server->reset();
    RemoveTree(copy);
    if (::testing::Test::HasFatalFailure()) break;
  }

  std::cout << "damaged copies: " << kCases << " starts\n";
  for (const auto& [kind, n] : damaged_kinds) {
    std::cout << "  damaged " << kind << ": " << n << "\n";
  }
  for (const auto& [outcome, n] : tally) {
    std::cout << "  " << outcome << ": " << n << "\n";
  }
  std::cout << "  removed entries served again after a reported torn "
               "tail (a removal record cut off): "
            << removed_back << "\n";
}

// The reports one by one: a gallery with a garbage MANIFEST is listed by
// GetStats while the others serve; a truncated active log segment is
// reported by GetGallery and the recovery metrics; a damaged calibration
// and audit checkpoint are sealed aside and listed.
TEST_F(DamagedCopiesTest, StatsGetGalleryAndMetricsReportWhatStartUpFound) {
  const std::string dir = root_ + "/data";
  {
    Reference reference(dir);
    reference.Build();
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
  }
  WriteAll(dir + "/galleries/alpha/MANIFEST", "garbage!");
  const fs::path wal = dir + "/galleries/beta/wal-00000000000000000001.log";
  const std::string bytes = ReadAll(wal);
  WriteAll(wal, bytes.substr(0, bytes.size() - 5));
  WriteAll(dir + "/calibrations/gamma.cal", "garbage!");
  WriteAll(dir + "/audit-checkpoint.json", "{}");

  api::ServerOptions options = OptionsFor(dir);
  const int metrics_port = FreeLoopbackPort();
  options.metrics_listen = absl::StrCat("127.0.0.1:", metrics_port);
  auto server = api::CandorServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = StubFor(**server);

  v1::Stats stats;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->GetStats(&ctx, v1::GetStatsRequest(), &stats).ok());
  }
  EXPECT_EQ(stats.galleries(), 2u);  // beta and gamma serve
  std::map<std::string, v1::Quarantined> by_kind;
  for (const v1::Quarantined& q : stats.quarantined()) by_kind[q.kind()] = q;
  ASSERT_EQ(by_kind.size(), 3u) << stats.DebugString();
  EXPECT_EQ(by_kind["gallery"].name(), "alpha");
  EXPECT_THAT(by_kind["gallery"].path(),
              ::testing::HasSubstr(dir + "/quarantine/alpha-"));
  EXPECT_THAT(by_kind["gallery"].reason(), ::testing::HasSubstr("MANIFEST"));
  EXPECT_TRUE(fs::exists(fs::path(by_kind["gallery"].path()) / "MANIFEST"));
  EXPECT_EQ(by_kind["calibration"].name(), "gamma");
  EXPECT_TRUE(fs::exists(by_kind["calibration"].path()));
  EXPECT_EQ(by_kind["audit_checkpoint"].name(), "audit-checkpoint.json");

  v1::Gallery beta;
  {
    grpc::ClientContext ctx;
    v1::GetGalleryRequest req;
    req.set_name("beta");
    ASSERT_TRUE(stub->GetGallery(&ctx, req, &beta).ok());
  }
  EXPECT_EQ(beta.recovery_dropped_records(), 1u);
  EXPECT_GT(beta.recovery_dropped_bytes(), 0u);
  v1::Gallery gamma;
  {
    grpc::ClientContext ctx;
    v1::GetGalleryRequest req;
    req.set_name("gamma");
    ASSERT_TRUE(stub->GetGallery(&ctx, req, &gamma).ok());
  }
  EXPECT_EQ(gamma.recovery_dropped_records(), 0u);
  EXPECT_FALSE(gamma.calibrated());

  const std::string metrics =
      LoopbackHttpGet(metrics_port, "/metrics");
  EXPECT_THAT(metrics, ::testing::HasSubstr(
                           "candor_recovery_dropped_records_total{gallery=\"beta\"} 1"));
  EXPECT_THAT(metrics, ::testing::HasSubstr(absl::StrCat(
                           "candor_recovery_dropped_bytes_total{gallery=\"beta\"} ",
                           beta.recovery_dropped_bytes())));
  EXPECT_THAT(metrics,
              ::testing::HasSubstr("candor_quarantined{kind=\"gallery\"} 1"));
  EXPECT_THAT(metrics, ::testing::HasSubstr(
                           "candor_quarantined{kind=\"calibration\"} 1"));
  (*server)->Shutdown();
}

}  // namespace
}  // namespace candor::testing
