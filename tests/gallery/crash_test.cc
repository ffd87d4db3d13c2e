// Crash safety: a child process enrolls and removes against a real
// GalleryStore, reporting each acknowledged operation on a pipe; the parent
// SIGKILLs it at random moments, reopens the store and checks that every
// acknowledged enrollment is there with its exact vectors, no acknowledged
// removal came back, and no enrollment is half present.
//
// The child is this test binary re-executed (fork + exec) so that it starts
// with a clean process (no inherited FAISS / OpenMP thread state).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/gallery/gallery_store.h"
#include "tests/gallery/test_util.h"

extern char** environ;

namespace candor::gallery {
namespace {

constexpr char kChildEnv[] = "CANDOR_GALLERY_CRASH_CHILD";
constexpr char kGalleryName[] = "crash";
constexpr int kDim = 8;
constexpr int kRounds = 20;

std::vector<float> BatchRows(int seed, int count) {
  return testing::RandomUnitRows(count, kDim, static_cast<uint32_t>(seed));
}

// One line per write(2): below PIPE_BUF, so lines never interleave or tear.
void Report(int fd, const std::string& line) {
  const std::string msg = line + "\n";
  if (write(fd, msg.data(), msg.size()) < 0) _exit(4);
}

StoreOptions ChildOptions(const std::string& data_dir) {
  StoreOptions options;
  options.data_dir = data_dir;
  // Background compaction runs (and gets killed) too.
  options.compaction_poll = absl::Milliseconds(40);
  options.gallery.compaction_delay = absl::Milliseconds(30);
  return options;
}

// The child: runs until killed. Lines: "S" (ready), "E seed count first_id"
// (enrollment acknowledged), "r id seed row" (about to remove), "R id"
// (removal acknowledged), "X message" (unexpected error).
[[noreturn]] void RunChild(const std::string& data_dir, int fd, int round) {
  auto store = GalleryStore::Open(ChildOptions(data_dir));
  if (!store.ok()) {
    Report(fd, "X " + store.status().ToString());
    _exit(3);
  }
  auto gallery = (*store)->Get(kGalleryName);
  if (!gallery.ok()) {
    GalleryConfig config;
    config.name = kGalleryName;
    config.index.dimension = kDim;
    gallery = (*store)->Create(config);
  }
  if (!gallery.ok()) {
    Report(fd, "X " + gallery.status().ToString());
    _exit(3);
  }
  Report(fd, "S");
  std::mt19937 rng(round);
  for (int op = 0;; ++op) {
    if (op % 4 == 3) {
      const std::vector<EntryMeta> entries = (*gallery)->Entries();
      if (entries.empty()) continue;
      const EntryMeta& victim = entries[rng() % entries.size()];
      // group is "<count>/<row>", subject "b<seed>".
      const std::string row = victim.group.substr(victim.group.find('/') + 1);
      Report(fd, absl::StrCat("r ", victim.id, " ", victim.subject_id.substr(1),
                              " ", row));
      auto r = (*gallery)->RemoveEntries({victim.id});
      if (!r.ok()) {
        Report(fd, "X " + r.status().ToString());
        _exit(3);
      }
      Report(fd, absl::StrCat("R ", victim.id));
    } else if (op % 23 == 22) {
      auto c = (*gallery)->Compact();
      if (!c.ok()) Report(fd, "X " + c.status().ToString());
    } else {
      const int seed = round * 100000 + op;
      const int count = 1 + static_cast<int>(rng() % 3);
      std::vector<std::string> subjects(count, absl::StrCat("b", seed));
      std::vector<std::string> groups;
      for (int i = 0; i < count; ++i) groups.push_back(absl::StrCat(count, "/", i));
      auto r = (*gallery)->Enroll(BatchRows(seed, count), subjects, groups,
                                  absl::StrCat("q", seed));
      if (!r.ok()) {
        Report(fd, "X " + r.status().ToString());
        _exit(3);
      }
      Report(fd, absl::StrCat("E ", seed, " ", count, " ", r->entry_ids[0]));
    }
  }
}

TEST(CrashTest, DISABLED_Child) {
  const char* env = getenv(kChildEnv);
  ASSERT_NE(env, nullptr);
  std::vector<std::string> parts = absl::StrSplit(env, '|');
  ASSERT_EQ(parts.size(), 3u);
  int fd, round;
  ASSERT_TRUE(absl::SimpleAtoi(parts[1], &fd));
  ASSERT_TRUE(absl::SimpleAtoi(parts[2], &round));
  RunChild(parts[0], fd, round);
}

// What the parent has been told, across rounds.
struct Model {
  struct Batch {
    int count = 0;
    EntryId first_id = 0;
  };
  std::map<int, Batch> acked_enrolls;  // by seed
  // Removals begun (maybe applied): id -> (seed, row).
  std::map<EntryId, std::pair<int, int>> remove_intents;
  std::set<EntryId> acked_removes;
};

// Starts the child; returns its pid and the pipe's read end.
pid_t StartChild(const std::string& data_dir, int round, int* read_fd) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  // Everything the child needs is built before fork.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.push_back(*e);
  env_strings.push_back(
      absl::StrCat(kChildEnv, "=", data_dir, "|", fds[1], "|", round));
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string exe = "/proc/self/exe";
  std::string filter = "--gtest_filter=CrashTest.DISABLED_Child";
  std::string disabled = "--gtest_also_run_disabled_tests";
  char* argv[] = {exe.data(), filter.data(), disabled.data(), nullptr};

  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    execve(exe.c_str(), argv, envp.data());
    _exit(127);
  }
  close(fds[1]);
  *read_fd = fds[0];
  return pid;
}

// Reads whole lines until `deadline` (or EOF); returns false on EOF.
bool ReadLines(int fd, absl::Time deadline, std::string* buffer,
               std::vector<std::string>* lines) {
  while (true) {
    const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) return true;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left_ms)) <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n <= 0) return false;
    buffer->append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buffer->find('\n')) != std::string::npos) {
      lines->push_back(buffer->substr(0, nl));
      buffer->erase(0, nl + 1);
    }
  }
}

void Apply(const std::vector<std::string>& lines, Model* model, bool* ready) {
  for (const std::string& line : lines) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f[0] == "S") {
      *ready = true;
    } else if (f[0] == "E" && f.size() == 4) {
      Model::Batch b;
      int seed;
      ASSERT_TRUE(absl::SimpleAtoi(f[1], &seed));
      ASSERT_TRUE(absl::SimpleAtoi(f[2], &b.count));
      ASSERT_TRUE(absl::SimpleAtoi(f[3], &b.first_id));
      model->acked_enrolls[seed] = b;
    } else if (f[0] == "r" && f.size() == 4) {
      EntryId id;
      int seed, row;
      ASSERT_TRUE(absl::SimpleAtoi(f[1], &id));
      ASSERT_TRUE(absl::SimpleAtoi(f[2], &seed));
      ASSERT_TRUE(absl::SimpleAtoi(f[3], &row));
      model->remove_intents[id] = {seed, row};
    } else if (f[0] == "R" && f.size() == 2) {
      EntryId id;
      ASSERT_TRUE(absl::SimpleAtoi(f[1], &id));
      model->acked_removes.insert(id);
    } else {
      ADD_FAILURE() << "child reported: " << line;
    }
  }
}

void Verify(const std::string& data_dir, const Model& model, int round) {
  StoreOptions options;
  options.data_dir = data_dir;
  options.compaction_poll = absl::Hours(1);
  auto store = GalleryStore::Open(options);
  ASSERT_TRUE(store.ok()) << "round " << round << ": " << store.status();
  auto gallery = (*store)->Get(kGalleryName);
  ASSERT_TRUE(gallery.ok()) << "round " << round;
  const Gallery& g = **gallery;

  // Present rows per seed, with exact vectors.
  std::map<int, std::set<int>> present;
  std::map<int, int> batch_rows;  // seed -> rows the batch enrolled
  std::vector<float> v(kDim);
  for (const EntryMeta& e : g.Entries()) {
    EXPECT_EQ(model.acked_removes.count(e.id), 0u)
        << "round " << round << ": removed entry " << e.id << " came back";
    int seed, count, row;
    std::vector<std::string> cr = absl::StrSplit(e.group, '/');
    ASSERT_TRUE(absl::SimpleAtoi(e.subject_id.substr(1), &seed));
    ASSERT_TRUE(absl::SimpleAtoi(cr[0], &count));
    ASSERT_TRUE(absl::SimpleAtoi(cr[1], &row));
    ASSERT_TRUE(g.GetVector(e.id, v.data()).ok());
    const std::vector<float> rows = BatchRows(seed, count);
    EXPECT_EQ(v, std::vector<float>(rows.begin() + row * kDim,
                                    rows.begin() + (row + 1) * kDim))
        << "round " << round << ": entry " << e.id;
    present[seed].insert(row);
    batch_rows[seed] = count;
  }
  // Every acknowledged enrollment is there, unless a removal was begun.
  for (const auto& [seed, batch] : model.acked_enrolls) {
    for (int row = 0; row < batch.count; ++row) {
      const EntryId id = batch.first_id + row;
      if (model.remove_intents.count(id)) continue;
      EXPECT_TRUE(present[seed].count(row))
          << "round " << round << ": acknowledged entry " << id << " lost";
    }
  }
  // No batch is half present: every row is present or was removed.
  std::map<int, std::set<int>> removed;
  for (const auto& [id, seed_row] : model.remove_intents) {
    removed[seed_row.first].insert(seed_row.second);
  }
  for (const auto& [seed, rows] : present) {
    for (int row = 0; row < batch_rows[seed]; ++row) {
      EXPECT_TRUE(rows.count(row) || removed[seed].count(row))
          << "round " << round << ": batch " << seed << " is half present";
    }
  }
}

TEST(CrashTest, KilledAtRandomMomentsLosesNothingAcknowledged) {
  testing::ScratchDir scratch;
  const std::string data_dir = scratch.path();
  std::mt19937 rng(42);
  Model model;
  size_t acked_total = 0;
  for (int round = 1; round <= kRounds; ++round) {
    int fd;
    const pid_t pid = StartChild(data_dir, round, &fd);
    ASSERT_GT(pid, 0);
    std::string buffer;
    std::vector<std::string> lines;
    bool ready = false;
    // Wait (bounded) for the child to open the store.
    const absl::Time start_deadline = absl::Now() + absl::Seconds(30);
    while (!ready && absl::Now() < start_deadline) {
      if (!ReadLines(fd, absl::Now() + absl::Milliseconds(10), &buffer, &lines)) {
        break;
      }
      for (const auto& l : lines) ready = ready || l == "S";
    }
    ASSERT_TRUE(ready) << "round " << round << ": child did not start";
    const int run_ms = 20 + static_cast<int>(rng() % 200);
    ReadLines(fd, absl::Now() + absl::Milliseconds(run_ms), &buffer, &lines);
    kill(pid, SIGKILL);
    int wstatus;
    waitpid(pid, &wstatus, 0);
    // Drain what the child wrote before it died.
    ReadLines(fd, absl::Now() + absl::Seconds(5), &buffer, &lines);
    close(fd);
    ready = false;
    Apply(lines, &model, &ready);
    acked_total = model.acked_enrolls.size() + model.acked_removes.size();
    Verify(data_dir, model, round);
    if (HasFatalFailure() || HasFailure()) return;
  }
  // The test exercised something.
  EXPECT_GT(model.acked_enrolls.size(), static_cast<size_t>(kRounds));
  EXPECT_GT(model.acked_removes.size(), 0u);
  RecordProperty("acknowledged_operations", static_cast<int>(acked_total));
}

}  // namespace
}  // namespace candor::gallery
