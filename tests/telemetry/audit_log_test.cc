// The audit log writer: what a record holds, HMAC sealing, group commit,
// rotation and retention, a torn tail at reopen, failed writes, checkpoints
// and file modes. Tampering and the verifier: audit_verify_test.cc.
#include "server/telemetry/audit_log.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/telemetry/audit_checkpoint.h"
#include "tests/telemetry/audit_test_util.h"

namespace candor::telemetry {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

int Mode(const fs::path& path) {
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

using AuditLogTest = AuditTest;

TEST(AuditChainTest, HmacSha256MatchesRfc4231) {
  // RFC 4231, test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_TRUE(HashesEqual("abc", "abc"));
  EXPECT_FALSE(HashesEqual("abc", "abd"));
  EXPECT_FALSE(HashesEqual("abc", "abcd"));
}

TEST_F(AuditLogTest, RecordsCarryTheFieldsAndNoEmbedding) {
  AuditRecord r = SearchRecord(0);
  r.forwarded_by = "spiffe://example.org/ns/candor/sa/router";
  r.details = {{"policy_before", {{"min_threshold", 0.5}}}};
  {
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(Opts());
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_EQ((*log)->AppendAndWait(r).value_or(0), 2u);  // after the header
    EXPECT_EQ((*log)->AppendAndWait(SearchRecord(1)).value_or(0), 3u);
    EXPECT_EQ((*log)->head().seq, 3u);
  }
  VerifyResult result;
  ASSERT_TRUE(Verify(&result).ok());
  EXPECT_EQ(result.records, 3u);  // header + 2
  EXPECT_EQ(result.last_seq, 3u);
  const std::vector<std::string> lines = ReadLines(Files()[0]);
  ASSERT_EQ(lines.size(), 3u);
  const nlohmann::json header = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(header["operation"], "file_header");
  EXPECT_EQ(header["mac"], "hmac-sha256");
  EXPECT_EQ(header["seq"], 1);
  EXPECT_EQ(header["prev_hash"], kGenesisHash);
  const nlohmann::json j = nlohmann::json::parse(lines[1]);
  std::vector<std::string> names;
  const AuditJson ordered = AuditJson::parse(lines[1]);
  for (const auto& [name, value] : ordered.items()) {
    names.push_back(name);
  }
  EXPECT_THAT(
      names,
      ::testing::ElementsAre(
          "seq", "start_time", "end_time", "operation", "identity", "peer",
          "forwarded_by", "purpose", "gallery", "gallery_version", "threshold",
          "threshold_source", "probe_count", "matched_entry_ids",
          "candidates_per_group", "verdict", "violations", "details",
          "status_code", "status_message", "prev_hash", "hash"));
  EXPECT_EQ(j["seq"], 2);
  EXPECT_EQ(j["prev_hash"], header["hash"]);
  EXPECT_EQ(j["operation"], "Search");
  EXPECT_EQ(j["start_time"], "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(j["end_time"], "2023-11-14T22:13:20.000250Z");
  EXPECT_EQ(j["identity"], "spiffe://example.org/ns/app/sa/searcher");
  EXPECT_EQ(j["peer"], "ipv4:127.0.0.1:5555");
  EXPECT_EQ(j["forwarded_by"], "spiffe://example.org/ns/candor/sa/router");
  EXPECT_EQ(j["purpose"], "case-0");
  EXPECT_EQ(j["gallery_version"], 12);
  EXPECT_EQ(j["threshold"].get<double>(), 0.4);
  EXPECT_EQ(j["matched_entry_ids"], nlohmann::json::parse("[[7,9],[]]"));
  EXPECT_EQ(j["candidates_per_group"]["B"], 1);
  EXPECT_EQ(j["verdict"], "warn");
  EXPECT_EQ(j["violations"][0], "FPIR of group A is high");
  EXPECT_EQ(j["details"]["policy_before"]["min_threshold"], 0.5);
  EXPECT_EQ(j["status_code"], "OK");
  EXPECT_EQ(nlohmann::json::parse(lines[2])["details"],
            nlohmann::json::object());
}

TEST_F(AuditLogTest, HashIsTheHmacOfTheLineUnderTheKey) {
  AppendRecords(Opts(), 1);
  const std::string line = ReadLines(Files()[0])[1];
  const std::string body = line.substr(0, line.rfind(",\"hash\":\"")) + "}";
  const std::string hash = nlohmann::json::parse(line)["hash"];
  EXPECT_EQ(hash, HmacSha256Hex(key_, body));
  EXPECT_NE(hash, HmacSha256Hex(key_ + "x", body));
}

TEST_F(AuditLogTest, OpenNeedsAKey) {
  AuditLog::Options o = Opts();
  o.key.clear();
  const absl::Status s = AuditLog::Open(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("key"));
}

TEST_F(AuditLogTest, ReopenWithAnotherKeyIsRefused) {
  AppendRecords(Opts(), 2);
  AuditLog::Options o = Opts();
  o.key = "another key, thirty-two bytes or more";
  const absl::Status s = AuditLog::Open(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr(Files()[0].string() + " line 3"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("wrong --audit_key_file?"));
  // The log itself is untouched: the right key continues it.
  AppendRecords(Opts(), 1, 2);
  VerifyResult result;
  ASSERT_TRUE(Verify(&result).ok());
  EXPECT_EQ(result.records, 5u);
}

// Group commit: while the writer is held inside the first record's `done`,
// Append returns at once for every other caller; the writer then takes the
// 200 queued records as one group with one fsync.
TEST_F(AuditLogTest, ConcurrentAppendsShareOneFsync) {
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(Opts());
  ASSERT_TRUE(log.ok()) << log.status();
  AuditLog& audit = **log;
  absl::Notification in_done, release;
  audit.Append(SearchRecord(0), [&](absl::StatusOr<uint64_t> seq) {
    EXPECT_TRUE(seq.ok());
    in_done.Notify();
    release.WaitForNotification();
  });
  in_done.WaitForNotification();
  EXPECT_EQ(audit.stats().group_commits, 1u);

  constexpr int kThreads = 8, kPerThread = 25;
  absl::Mutex mu;
  std::vector<uint64_t> seqs;
  absl::BlockingCounter written(kThreads * kPerThread);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        audit.Append(SearchRecord(1 + t * kPerThread + i),
                     [&](absl::StatusOr<uint64_t> seq) {
                       EXPECT_TRUE(seq.ok()) << seq.status();
                       absl::MutexLock lock(&mu);
                       seqs.push_back(seq.value_or(0));
                       written.DecrementCount();
                     });
      }
    });
  }
  for (std::thread& t : threads) t.join();  // all returned, none written yet
  EXPECT_EQ(audit.stats().records, 1u);
  release.Notify();
  written.Wait();

  const AuditLog::Stats stats = audit.stats();
  EXPECT_EQ(stats.records, 1u + kThreads * kPerThread);
  EXPECT_EQ(stats.group_commits, 2u);
  std::sort(seqs.begin(), seqs.end());
  ASSERT_EQ(seqs.size(), size_t{kThreads * kPerThread});
  for (size_t i = 0; i < seqs.size(); ++i)
    EXPECT_EQ(seqs[i], 3 + i);  // header 1, first 2
  EXPECT_EQ(audit.head().seq, seqs.back());
  VerifyResult result;
  ASSERT_TRUE(Verify(&result).ok());
  EXPECT_EQ(result.last_seq, seqs.back());
}

TEST_F(AuditLogTest, ManyWaitingWritersFormOneChain) {
  AuditLog::Options o = Opts();
  o.max_file_bytes = 16 * 1024;  // rotation inside groups, too
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o);
  ASSERT_TRUE(log.ok());
  std::vector<std::thread> threads;
  absl::Mutex mu;
  std::set<uint64_t> seqs;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        absl::StatusOr<uint64_t> seq =
            (*log)->AppendAndWait(SearchRecord(t * 100 + i));
        ASSERT_TRUE(seq.ok()) << seq.status();
        absl::MutexLock lock(&mu);
        EXPECT_TRUE(seqs.insert(*seq).second) << *seq;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ((*log)->stats().records, 320u);
  VerifyResult result;
  ASSERT_TRUE(Verify(&result).ok());
  EXPECT_EQ(result.records, 320 + Files().size());
  EXPECT_GE(Files().size(), 3u);
}

TEST_F(AuditLogTest, RotationKeepsTheChainAcrossFilesAndRestarts) {
  AuditLog::Options o = Opts();
  o.max_file_bytes = 2048;
  AppendRecords(o, 30);
  AppendRecords(o, 5, 30);  // reopened: continues in a new file
  const std::vector<fs::path> files = Files();
  ASSERT_GE(files.size(), 4u);
  VerifyResult result;
  ASSERT_TRUE(Verify(&result).ok());
  EXPECT_EQ(result.records, 35 + files.size());
  for (const fs::path& f : files) EXPECT_LE(fs::file_size(f), 2048u);
  const std::vector<std::string> first = ReadLines(files[0]);
  const nlohmann::json second_header =
      nlohmann::json::parse(ReadLines(files[1])[0]);
  EXPECT_EQ(second_header["prev_hash"],
            nlohmann::json::parse(first.back())["hash"]);
}

TEST_F(AuditLogTest, RetentionByCountStillVerifies) {
  AuditLog::Options o = Opts();
  o.max_file_bytes = 2048;
  o.max_files = 2;
  AppendRecords(o, 40);
  const std::vector<fs::path> files = Files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_NE(files[0].filename().string(), AuditFileName(1));
  EXPECT_TRUE(Verify().ok());
}

TEST_F(AuditLogTest, RetentionByAge) {
  AuditLog::Options o = Opts();
  o.max_file_bytes = 2048;
  AppendRecords(o, 20);
  const size_t before = Files().size();
  ASSERT_GE(before, 3u);
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(2);
  for (size_t i = 0; i + 1 < before; ++i) fs::last_write_time(Files()[i], old);
  o.max_age = absl::Hours(1);
  AppendRecords(o, 1, 20);
  EXPECT_EQ(Files().size(), 2u);
  EXPECT_TRUE(Verify().ok());
}

TEST_F(AuditLogTest, TornTailIsCutAtReopenAndTheChainContinues) {
  AppendRecords(Opts(), 3);
  const fs::path file = Files()[0];
  const uint64_t durable = fs::file_size(file);
  const std::string partial =
      R"({"seq":5,"start_time":"2023-11-14T22:13:20.000000Z","oper)";
  std::ofstream(file, std::ios::app) << partial;
  EXPECT_THAT(VerifyError(), HasSubstr("line 5 (seq 5): partial record"));

  ::testing::internal::CaptureStderr();
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(Opts());
  const std::string logged = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_THAT(logged, HasSubstr(file.string()));
  EXPECT_THAT(logged,
              HasSubstr(absl::StrCat("offset ", durable, " (", partial.size(),
                                     " bytes dropped)")));
  EXPECT_EQ(fs::file_size(file), durable);
  EXPECT_EQ((*log)->head().seq, 5u);  // seq 4 was durable; 5 is the new header
  EXPECT_EQ((*log)->AppendAndWait(SearchRecord(3)).value_or(0), 6u);
  log->reset();
  VerifyResult result;
  ASSERT_TRUE(Verify(&result).ok());
  EXPECT_EQ(result.records, 6u);
  EXPECT_EQ(Files().size(), 2u);
}

TEST_F(AuditLogTest, FileWithoutACompleteHeaderIsRemovedAtReopen) {
  AppendRecords(Opts(), 2);
  const fs::path torn = dir_ / AuditFileName(4);
  std::ofstream(torn) << R"({"seq":4,"time":")";
  ::testing::internal::CaptureStderr();
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(Opts());
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("removed"));
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->head().seq, 4u);  // the new file's header took seq 4
  log->reset();
  EXPECT_TRUE(Verify().ok());
}

// The process's file size limit stands in for a full disk: the kernel
// writes up to the limit (a partial line), then refuses with EFBIG.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old_);
    rlimit limited = old_;
    limited.rlim_cur = bytes;
    EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  }
  ~FileSizeLimit() { Lift(); }
  void Lift() {
    if (lifted_) return;
    lifted_ = true;
    EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &old_), 0);
    signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_;
  sighandler_t old_handler_;
  bool lifted_ = false;
};

TEST_F(AuditLogTest, FailedWriteIsUnavailableLeavesNoPartialLineAndRecovers) {
  AuditLog::Options o = Opts();
  std::atomic<int> failures{0};
  o.on_write_failure = [&failures] { ++failures; };
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_TRUE((*log)->AppendAndWait(SearchRecord(0)).ok());
  const fs::path file = Files()[0];
  const uint64_t durable = fs::file_size(file);
  const AuditLog::Head head = (*log)->head();

  FileSizeLimit limit(durable + 100);  // room for part of one line
  absl::StatusOr<uint64_t> refused = (*log)->AppendAndWait(SearchRecord(1));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable)
      << refused.status();
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("audit log write failed: "));
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("File too large"));
  absl::BlockingCounter three(3);
  for (int i = 2; i < 5; ++i) {
    (*log)->Append(SearchRecord(i), [&](absl::StatusOr<uint64_t> seq) {
      EXPECT_EQ(seq.status().code(), absl::StatusCode::kUnavailable);
      three.DecrementCount();
    });
  }
  three.Wait();
  EXPECT_EQ(failures.load(), 4);
  EXPECT_EQ((*log)->stats().failed_records, 4u);
  EXPECT_EQ(fs::file_size(file), durable);  // cut back: no partial line
  EXPECT_EQ((*log)->head().seq, head.seq);
  EXPECT_EQ((*log)->head().hash, head.hash);

  limit.Lift();
  EXPECT_EQ((*log)->AppendAndWait(SearchRecord(5)).value_or(0), head.seq + 1);
  log->reset();
  VerifyResult result;
  ASSERT_TRUE(Verify(&result).ok());
  EXPECT_EQ(result.records, 3u);  // header, 0 and 5
  EXPECT_EQ(nlohmann::json::parse(ReadLines(file).back())["purpose"], "case-5");
}

TEST_F(AuditLogTest, CheckpointsTheHeadEveryInterval) {
  AuditLog::Options o = Opts();
  o.checkpoint_path = checkpoint_.string();
  o.checkpoint_interval = absl::Milliseconds(20);
  std::atomic<uint64_t> checkpointed{0};
  o.on_checkpoint = [&checkpointed](uint64_t seq) { checkpointed = seq; };
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(checkpointed.load(), 1u);  // the header, at Open
  const uint64_t seq = (*log)->AppendAndWait(SearchRecord(0)).value_or(0);
  ASSERT_EQ(seq, 2u);
  for (int i = 0; i < 500 && checkpointed.load() != seq; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(checkpointed.load(), seq);
  absl::StatusOr<AuditCheckpoint> checkpoint =
      ReadAuditCheckpoint(checkpoint_.string(), key_);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->seq, seq);
  EXPECT_EQ(checkpoint->hash, (*log)->head().hash);
  EXPECT_LE(absl::Now() - checkpoint->time, absl::Minutes(1));
  const nlohmann::json line = nlohmann::json::parse(ReadLines(checkpoint_)[0]);
  EXPECT_EQ(line["seq"], seq);
  EXPECT_TRUE(line.contains("mac"));
}

TEST_F(AuditLogTest, CheckpointOnDemandAndAtClose) {
  AuditLog::Options o = Opts();
  o.checkpoint_path = checkpoint_.string();
  o.checkpoint_interval = absl::Hours(1);
  {
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(o);
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE((*log)->AppendAndWait(SearchRecord(0)).ok());
    EXPECT_EQ(ReadAuditCheckpoint(checkpoint_.string(), key_)->seq, 1u);
    ASSERT_TRUE((*log)->Checkpoint().ok());
    EXPECT_EQ(ReadAuditCheckpoint(checkpoint_.string(), key_)->seq, 2u);
    (*log)->Append(SearchRecord(1), nullptr);
  }
  EXPECT_EQ(ReadAuditCheckpoint(checkpoint_.string(), key_)->seq, 3u);
}

// A log cut short behind its checkpoint: audit_damage_test.cc (sealed
// aside, and the new chain records the break).

TEST_F(AuditLogTest, FilesAre0600InA0700Folder) {
  AuditLog::Options o = Opts();
  o.checkpoint_path = checkpoint_.string();
  o.max_file_bytes = 2048;
  AppendRecords(o, 10);
  EXPECT_EQ(Mode(dir_), 0700);
  ASSERT_GE(Files().size(), 2u);
  for (const fs::path& f : Files()) EXPECT_EQ(Mode(f), 0600) << f;
  EXPECT_EQ(Mode(checkpoint_), 0600);

  fs::permissions(dir_, fs::perms(0755));
  ::testing::internal::CaptureStderr();
  AppendRecords(o, 1);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              HasSubstr("narrowed to 0700"));
  EXPECT_EQ(Mode(dir_), 0700);
}

}  // namespace
}  // namespace candor::telemetry
