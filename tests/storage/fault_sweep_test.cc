// The fault sweep: for each durable operation (enroll, remove, compaction,
// calibration save, audit append), every I/O operation it performs is
// failed in turn (op 1, 2, ... until one runs without reaching the
// fault). Each time:
//   - the call ends in a clean error (or succeeds when the failed step was
//     best effort), never a crash;
//   - the gallery keeps serving reads, and takes writes again once the
//     disk does;
//   - after a simulated power loss at that point (unsynced bytes dropped,
//     or the last unsynced sector torn; unsynced directory changes
//     undone), recovery from the surviving bytes gives a prefix of the
//     acknowledged history: no acknowledged enrollment lost, no
//     acknowledged removal undone, a failed call either whole or absent.
// It prints the fault points swept per operation.
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/gallery/gallery.h"
#include "server/storage/files.h"
#include "server/telemetry/audit_log.h"
#include "server/telemetry/audit_verify.h"
#include "server/telemetry/calibration_io.h"
#include "tests/gallery/test_util.h"
#include "tests/storage/fault_env.h"

namespace candor::storage {
namespace {

using gallery::Gallery;
using gallery::GalleryOptions;
using gallery::testing::CountInFiles;
using gallery::testing::RandomUnitRows;
using gallery::testing::ScratchDir;
using testing::FaultEnv;
using testing::Op;

constexpr int kDim = 8;
// Far above any operation's I/O count: a sweep that reaches it is broken.
constexpr uint64_t kMaxFaultPoints = 200;

// What the caller was told: acknowledged entries and removals, and what
// failed calls may or may not have done.
struct History {
  struct Row {
    std::string subject;
    std::vector<float> vector;
  };
  std::map<EntryId, Row> live;
  std::set<EntryId> removed;
  // Rows of failed enrolls (may appear after recovery), ids of failed
  // removals (may be gone after recovery).
  std::vector<std::vector<float>> maybe_enrolled;
  std::set<EntryId> maybe_removed;
};

std::string Bytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()),
                     v.size() * sizeof(float));
}

class Harness {
 public:
  Harness() : dir_(JoinPath(scratch_.path(), "g")) {
    options_.env = &env_;
    gallery::GalleryConfig config;
    config.name = "g";
    config.index.dimension = kDim;
    auto g = Gallery::Create(dir_, config, options_);
    EXPECT_TRUE(g.ok()) << g.status();
    gallery_ = std::move(*g);
  }

  FaultEnv& env() { return env_; }
  Gallery& gallery() { return *gallery_; }
  History& history() { return history_; }
  const std::string& dir() const { return dir_; }

  absl::Status Enroll(int rows, uint32_t seed) {
    std::vector<float> v = RandomUnitRows(rows, kDim, seed);
    std::vector<std::string> subjects(rows, "s" + std::to_string(seed));
    auto r = gallery_->Enroll(v, subjects, {}, "");
    if (!r.ok()) {
      for (int i = 0; i < rows; ++i) {
        history_.maybe_enrolled.emplace_back(v.begin() + i * kDim,
                                             v.begin() + (i + 1) * kDim);
      }
      return r.status();
    }
    for (int i = 0; i < rows; ++i) {
      history_.live[r->entry_ids[i]] = {
          subjects[i], {v.begin() + i * kDim, v.begin() + (i + 1) * kDim}};
    }
    return absl::OkStatus();
  }

  absl::Status Remove(std::vector<EntryId> ids) {
    auto r = gallery_->RemoveEntries(ids);
    for (EntryId id : ids) {
      if (r.ok()) {
        history_.live.erase(id);
        history_.removed.insert(id);
      } else {
        history_.maybe_removed.insert(id);
      }
    }
    return r.status();
  }

  // The live gallery matches what was acknowledged, and searches.
  void ExpectServing(const std::string& where) {
    std::set<EntryId> ids;
    for (const auto& e : gallery_->Entries()) ids.insert(e.id);
    std::set<EntryId> expected;
    for (const auto& [id, row] : history_.live) expected.insert(id);
    EXPECT_EQ(ids, expected) << where;
    const std::vector<float> probe = RandomUnitRows(1, kDim, 99);
    const ProbeQuery q{-1.0f, 10, 0};
    auto found = gallery_->Search(probe, absl::MakeConstSpan(&q, 1));
    EXPECT_TRUE(found.ok()) << where << ": " << found.status();
  }

  // Power loss now, then recovery from the surviving bytes.
  void PowerLossAndRecover(FaultEnv::Loss loss, bool compaction_acked,
                           const std::string& where) {
    env_.PowerLoss(loss, /*seed=*/7);
    gallery_.reset();
    auto g = Gallery::Open(dir_, GalleryOptions());
    ASSERT_TRUE(g.ok()) << where << ": recovery failed: " << g.status();
    std::map<EntryId, std::vector<float>> found;
    for (const auto& e : (*g)->Entries()) {
      std::vector<float> v(kDim);
      ASSERT_TRUE((*g)->GetVector(e.id, v.data()).ok());
      found[e.id] = v;
      if (history_.live.count(e.id) > 0) {
        EXPECT_EQ(e.subject_id, history_.live[e.id].subject) << where;
      }
    }
    for (const auto& [id, row] : history_.live) {
      if (history_.maybe_removed.count(id) > 0 && found.count(id) == 0) {
        continue;
      }
      ASSERT_EQ(found.count(id), 1u)
          << where << ": acknowledged entry " << id << " lost";
      EXPECT_EQ(found[id], row.vector) << where;
    }
    for (EntryId id : history_.removed) {
      EXPECT_EQ(found.count(id), 0u)
          << where << ": removed entry " << id << " came back";
    }
    for (const auto& [id, v] : found) {
      if (history_.live.count(id) > 0) continue;
      bool failed_enroll = false;
      for (const auto& m : history_.maybe_enrolled) failed_enroll |= m == v;
      EXPECT_TRUE(failed_enroll)
          << where << ": entry " << id << " from nowhere";
    }
    if (compaction_acked) {
      // An acknowledged compaction erased removed vectors from every file.
      for (const auto& bytes : removed_bytes_) {
        EXPECT_EQ(CountInFiles(dir_, bytes), 0) << where << ": removed "
                                                << "vector still on disk";
      }
    }
  }

  // Remembers the vectors of acknowledged removals (for the disk scan).
  void NoteRemovedVectors(const std::vector<EntryId>& ids) {
    for (EntryId id : ids) {
      std::vector<float> v(kDim);
      if (gallery_->GetVector(id, v.data()).ok()) {
        removed_bytes_.push_back(Bytes(v));
      }
    }
  }

 private:
  ScratchDir scratch_;
  FaultEnv env_;
  GalleryOptions options_;
  std::string dir_;
  std::unique_ptr<Gallery> gallery_;
  History history_;
  std::vector<std::string> removed_bytes_;
};

struct Sweep {
  int points = 0;
  int failed_calls = 0;
  std::map<std::string, int> by_kind;
};

// One line per operation for the closing note (each test runs in a
// process of its own, so each prints its own).
void Print(const std::string& op, const Sweep& sweep) {
  std::string kinds;
  for (const auto& [k, n] : sweep.by_kind) {
    kinds += (kinds.empty() ? "" : ", ") + k + " " + std::to_string(n);
  }
  std::printf(
      "fault sweep: %s: %d fault points, each with power loss after it "
      "(%d calls failed cleanly, the others succeeded past a best-effort "
      "step); failed I/O by kind: %s\n",
      op.c_str(), sweep.points, sweep.failed_calls, kinds.c_str());
}

// Runs one gallery operation with fault i armed, for every i; `setup`
// builds the state before it, `op` runs it (returning its status).
void SweepGallery(const std::string& name,
                  const std::function<void(Harness&)>& setup,
                  const std::function<absl::Status(Harness&)>& op) {
  Sweep sweep;
  for (uint64_t i = 1; i <= kMaxFaultPoints; ++i) {
    bool fired = false;
    // Variant 0/1: power loss right after the failure (bytes dropped /
    // last sector torn); variant 2: the disk recovers, one more write is
    // acknowledged, then the power goes.
    for (int variant = 0; variant < 3; ++variant) {
      const std::string where = name + " fault " + std::to_string(i) +
                                " variant " + std::to_string(variant);
      Harness h;
      setup(h);
      h.env().FailAt(i, std::nullopt);
      const absl::Status s = op(h);
      fired = h.env().fault_fired();
      if (!fired) {
        EXPECT_TRUE(s.ok()) << where << ": " << s;
      }
      h.env().ClearFaults();
      if (variant == 0 && fired) {
        ++sweep.points;
        if (!s.ok()) ++sweep.failed_calls;
        ++sweep.by_kind[OpName(*h.env().fired_kind())];
      }
      h.ExpectServing(where);
      const bool compaction_acked = name == "compaction" && s.ok();
      if (variant == 2) {
        // The disk is back: writes resume without a restart.
        const absl::Status after = h.Enroll(1, 1000 + i);
        EXPECT_TRUE(after.ok()) << where << ": write after recovery: " << after;
        h.ExpectServing(where + " after recovery");
      }
      h.PowerLossAndRecover(variant == 1 ? FaultEnv::Loss::kTearZero
                                         : FaultEnv::Loss::kDropUnsynced,
                            compaction_acked, where);
      if (::testing::Test::HasFatalFailure()) return;
      if (!fired) break;
    }
    if (!fired) return Print(name, sweep);
  }
  ADD_FAILURE() << name << ": more than " << kMaxFaultPoints << " fault points";
}

// The first `n` live entries, by id.
std::vector<EntryId> FirstLiveIds(Harness& h, size_t n) {
  std::vector<EntryId> ids;
  for (const auto& [id, row] : h.history().live) {
    if (ids.size() == n) break;
    ids.push_back(id);
  }
  return ids;
}

TEST(StorageFaultSweepTest, Enroll) {
  SweepGallery(
      "enroll", [](Harness& h) { ASSERT_TRUE(h.Enroll(3, 1).ok()); },
      [](Harness& h) { return h.Enroll(2, 2); });
}

TEST(StorageFaultSweepTest, Remove) {
  SweepGallery(
      "remove", [](Harness& h) { ASSERT_TRUE(h.Enroll(4, 1).ok()); },
      [](Harness& h) {
        const std::vector<EntryId> ids = FirstLiveIds(h, 2);
        return h.Remove(ids);
      });
}

// A removal right after a failed log sync: it first repairs the log (cuts
// the failed record off), so its own I/O includes the repair's.
TEST(StorageFaultSweepTest, RemoveAfterAFailedWrite) {
  SweepGallery(
      "remove (repairing)",
      [](Harness& h) {
        ASSERT_TRUE(h.Enroll(4, 1).ok());
        h.env().FailAt(1, Op::kSync);
        ASSERT_FALSE(h.Enroll(1, 2).ok());
        h.env().ClearFaults();
      },
      [](Harness& h) {
        const std::vector<EntryId> ids = FirstLiveIds(h, 2);
        return h.Remove(ids);
      });
}

TEST(StorageFaultSweepTest, Compaction) {
  SweepGallery(
      "compaction",
      [](Harness& h) {
        ASSERT_TRUE(h.Enroll(4, 1).ok());
        const std::vector<EntryId> ids = FirstLiveIds(h, 2);
        h.NoteRemovedVectors(ids);
        ASSERT_TRUE(h.Remove(ids).ok());
        // A second round, so the compaction also erases an old snapshot.
        ASSERT_TRUE(h.gallery().Compact().ok());
        ASSERT_TRUE(h.Enroll(1, 2).ok());
        const EntryId last = h.history().live.rbegin()->first;
        h.NoteRemovedVectors({last});
        ASSERT_TRUE(h.Remove({last}).ok());
      },
      [](Harness& h) { return h.gallery().Compact().status(); });
}

telemetry::Calibration MakeCalibration(int64_t created_at_us) {
  std::vector<telemetry::NonMatedObservation> nonmated;
  std::vector<telemetry::MatedObservation> mated;
  for (int i = 0; i < 50; ++i) {
    nonmated.push_back({i % 2 ? "A" : "B", 0.01f * i});
    mated.push_back({i % 2 ? "A" : "B", 0.5f + 0.01f * i, i % 5});
  }
  telemetry::CalibrationMeta meta;
  meta.created_at_us = created_at_us;
  meta.gallery_size = 100;
  meta.gallery_version = 3;
  meta.source = telemetry::kSourceSelfAudit;
  meta.top_k = 10;
  return *telemetry::Calibration::Build(meta, nonmated, mated);
}

TEST(StorageFaultSweepTest, CalibrationSave) {
  Sweep sweep;
  for (uint64_t i = 1; i <= kMaxFaultPoints; ++i) {
    bool fired = false;
    for (int variant = 0; variant < 2; ++variant) {
      const std::string where = "calibration fault " + std::to_string(i);
      ScratchDir scratch;
      FaultEnv env;
      const std::string path = JoinPath(scratch.path(), "g.cal");
      ASSERT_TRUE(SaveCalibration(&env, MakeCalibration(1), path).ok());
      env.FailAt(i, std::nullopt);
      const absl::Status s = SaveCalibration(&env, MakeCalibration(2), path);
      fired = env.fault_fired();
      if (variant == 0 && fired) {
        ++sweep.points;
        if (!s.ok()) ++sweep.failed_calls;
        ++sweep.by_kind[OpName(*env.fired_kind())];
      }
      if (!fired) {
        EXPECT_TRUE(s.ok()) << where << ": " << s;
      }
      env.PowerLoss(variant == 0 ? FaultEnv::Loss::kDropUnsynced
                                 : FaultEnv::Loss::kTearZero);
      auto back = telemetry::LoadCalibration(Env::Default(), path);
      ASSERT_TRUE(back.ok()) << where << ": " << back.status();
      // The new one when acknowledged; else either, never a mix.
      if (s.ok()) {
        EXPECT_EQ(back->meta().created_at_us, 2) << where;
      } else {
        EXPECT_TRUE(back->meta().created_at_us == 1 ||
                    back->meta().created_at_us == 2)
            << where;
      }
      if (!fired) break;
    }
    if (!fired) return Print("calibration save", sweep);
  }
  ADD_FAILURE() << "calibration: more than " << kMaxFaultPoints << " points";
}

telemetry::AuditRecord Record(int i) {
  telemetry::AuditRecord r;
  r.start_time = r.end_time = absl::FromUnixSeconds(1700000000 + i);
  r.operation = "Search";
  r.purpose = "case-" + std::to_string(i);
  // About 400 bytes a line: two records fill a 1 KiB file.
  r.status_message = std::string(300, 'x');
  r.gallery = "g";
  return r;
}

TEST(StorageFaultSweepTest, AuditAppend) {
  const std::string key = "a test key of thirty-two bytes or more";
  Sweep sweep;
  for (uint64_t i = 1; i <= kMaxFaultPoints; ++i) {
    bool fired = false;
    for (int variant = 0; variant < 3; ++variant) {
      const std::string where = "audit fault " + std::to_string(i) +
                                " variant " + std::to_string(variant);
      ScratchDir scratch;
      FaultEnv env;
      telemetry::AuditLog::Options o;
      o.dir = JoinPath(scratch.path(), "audit");
      o.key = key;
      o.checkpoint_path = JoinPath(scratch.path(), "audit.checkpoint");
      o.env = &env;
      // The smallest file: the record under test begins a new one, so the
      // sweep covers beginning files too.
      o.max_file_bytes = 1024;
      uint64_t acked = 0;
      absl::Status s;
      {
        auto log = telemetry::AuditLog::Open(o);
        ASSERT_TRUE(log.ok()) << log.status();
        for (int r = 0; r < 2; ++r) {
          auto seq = (*log)->AppendAndWait(Record(r));
          ASSERT_TRUE(seq.ok()) << seq.status();
          acked = *seq;
        }
        env.FailAt(i, std::nullopt);
        auto seq = (*log)->AppendAndWait(Record(2));
        fired = env.fault_fired();
        s = seq.status();
        if (variant == 0 && fired) {
          ++sweep.points;
          if (!s.ok()) ++sweep.failed_calls;
          ++sweep.by_kind[OpName(*env.fired_kind())];
        }
        if (!fired) {
          EXPECT_TRUE(s.ok()) << where << ": " << s;
        }
        if (seq.ok()) {
          acked = *seq;
        } else {
          // A failed audit write is UNAVAILABLE, naming the cause.
          EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << where << s;
        }
        env.ClearFaults();
        if (variant == 2) {
          auto after = (*log)->AppendAndWait(Record(3));
          EXPECT_TRUE(after.ok()) << where << ": " << after.status();
          if (after.ok()) acked = *after;
        }
        env.PowerLoss(variant == 1 ? FaultEnv::Loss::kTearZero
                                   : FaultEnv::Loss::kDropUnsynced);
      }
      // Recovery: the log reopens and its chain verifies, holding every
      // acknowledged record.
      o.env = Env::Default();
      {
        auto log = telemetry::AuditLog::Open(o);
        ASSERT_TRUE(log.ok()) << where << ": " << log.status();
        EXPECT_GE((*log)->head().seq, acked) << where;
      }
      telemetry::VerifyOptions v;
      v.dir = o.dir;
      v.key = key;
      v.checkpoint_path = o.checkpoint_path;
      telemetry::VerifyResult result;
      const absl::Status verified = telemetry::VerifyAuditLog(v, &result);
      EXPECT_TRUE(verified.ok()) << where << ": " << verified;
      EXPECT_GE(result.last_seq, acked) << where;
      if (!fired) break;
    }
    if (!fired) return Print("audit append", sweep);
  }
  ADD_FAILURE() << "audit: more than " << kMaxFaultPoints << " points";
}

}  // namespace
}  // namespace candor::storage
