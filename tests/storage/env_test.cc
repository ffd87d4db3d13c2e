// The POSIX Env and the helpers on it, and the fault-injecting Env that
// the fault tests rely on: what it fails, and what survives its power
// loss.
#include "server/storage/env.h"

#include <string>

#include "gtest/gtest.h"
#include "server/storage/files.h"
#include "server/storage/record.h"
#include "tests/gallery/test_util.h"
#include "tests/storage/fault_env.h"

namespace candor::storage {
namespace {

using gallery::testing::ReadAll;
using gallery::testing::ScratchDir;
using testing::FaultEnv;
using testing::Op;

TEST(StorageEnvTest, WriteFileAtomicallyReplacesAndLeavesNoTmp) {
  ScratchDir dir;
  Env* env = Env::Default();
  const std::string path = JoinPath(dir.path(), "f");
  ASSERT_TRUE(WriteFileAtomically(env, path, "one").ok());
  ASSERT_TRUE(WriteFileAtomically(env, path, "two").ok());
  EXPECT_EQ(*env->ReadFile(path), "two");
  EXPECT_FALSE(env->FileExists(path + ".tmp"));
}

TEST(StorageEnvTest, ClosedFileRefusesAppends) {
  ScratchDir dir;
  auto file = Env::Default()->NewWritableFile(JoinPath(dir.path(), "f"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("abc").ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_FALSE((*file)->Append("d").ok());
  EXPECT_FALSE((*file)->Close().ok());
}

TEST(StorageEnvTest, EraseDirectoryRemovesEverything) {
  ScratchDir dir;
  Env* env = Env::Default();
  const std::string sub = JoinPath(dir.path(), "a/b");
  ASSERT_TRUE(MakeDirs(env, sub).ok());
  ASSERT_TRUE(WriteFileAtomically(env, JoinPath(sub, "x"), "secret").ok());
  ASSERT_TRUE(EraseDirectory(env, JoinPath(dir.path(), "a")).ok());
  EXPECT_FALSE(env->FileExists(JoinPath(dir.path(), "a")));
}

TEST(StorageEnvTest, EraseTmpFilesLeavesOthers) {
  ScratchDir dir;
  Env* env = Env::Default();
  ASSERT_TRUE(WriteFileAtomically(env, JoinPath(dir.path(), "keep"), "k").ok());
  auto f = env->NewWritableFile(JoinPath(dir.path(), "half.tmp"));
  ASSERT_TRUE(f.ok() && (*f)->Append("vectors").ok() && (*f)->Close().ok());
  EXPECT_EQ(*EraseTmpFiles(env, dir.path()), 1);
  EXPECT_EQ(*env->ListDir(dir.path()), std::vector<std::string>{"keep"});
}

TEST(StorageRecordTest, FramedRecordRoundTripsAndTellsTornFromDamaged) {
  const std::string rec = FrameRecord("payload");
  FramedRecord r = ReadFramedRecord(rec);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.payload, "payload");
  EXPECT_EQ(r.bytes, rec.size());
  // Cut short: torn.
  EXPECT_TRUE(ReadFramedRecord(rec.substr(0, rec.size() - 1)).torn);
  EXPECT_TRUE(ReadFramedRecord(rec.substr(0, 5)).torn);
  // Zero-filled: torn. A flipped payload byte at the end: torn (it is the
  // last record); with bytes after it: damage.
  EXPECT_TRUE(ReadFramedRecord(std::string(20, '\0')).torn);
  std::string flipped = rec;
  flipped.back() ^= 1;
  EXPECT_TRUE(ReadFramedRecord(flipped).torn);
  FramedRecord damaged = ReadFramedRecord(flipped + "more");
  EXPECT_FALSE(damaged.ok());
  EXPECT_FALSE(damaged.torn);
}

TEST(StorageFaultEnvTest, FailsTheNthOperationOfAKindOnce) {
  ScratchDir dir;
  FaultEnv env;
  auto file = env.NewWritableFile(JoinPath(dir.path(), "f"));
  ASSERT_TRUE(file.ok());
  env.FailAt(2, Op::kAppend);
  EXPECT_TRUE((*file)->Append("a").ok());
  EXPECT_FALSE((*file)->Append("b").ok());
  EXPECT_TRUE(env.fault_fired());
  EXPECT_TRUE((*file)->Append("c").ok());
  EXPECT_EQ(*env.ReadFile(JoinPath(dir.path(), "f")), "ac");
  env.FailAt(1, std::nullopt, /*persistent=*/true);
  EXPECT_FALSE((*file)->Sync().ok());
  EXPECT_FALSE((*file)->Append("d").ok());
  env.ClearFaults();
  EXPECT_TRUE((*file)->Sync().ok());
  // Failed operations count too.
  EXPECT_EQ(env.count(Op::kAppend), 4u);
}

TEST(StorageFaultEnvTest, PowerLossDropsUnsyncedBytes) {
  ScratchDir dir;
  const std::string path = JoinPath(dir.path(), "log");
  {
    auto f = Env::Default()->NewWritableFile(path);
    ASSERT_TRUE(f.ok() && (*f)->Append("old").ok() && (*f)->Close().ok());
  }
  FaultEnv env;
  auto file = env.NewAppendableFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("synced").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Append("lost").ok());
  env.PowerLoss(FaultEnv::Loss::kDropUnsynced);
  EXPECT_FALSE((*file)->Append("after").ok());
  EXPECT_EQ(ReadAll(path), "oldsynced");
}

TEST(StorageFaultEnvTest, PowerLossTearsTheLastUnsyncedSector) {
  ScratchDir dir;
  const std::string path = JoinPath(dir.path(), "log");
  FaultEnv env;
  auto file = env.NewWritableFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(env.SyncDir(dir.path()).ok());
  ASSERT_TRUE((*file)->Append(std::string(100, 's')).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Append(std::string(1000, 'u')).ok());
  env.PowerLoss(FaultEnv::Loss::kTearZero);
  const std::string after = ReadAll(path);
  ASSERT_EQ(after.size(), 1100u);
  // Whole sectors of the unsynced tail survive; the partial last one reads
  // as zeros.
  EXPECT_EQ(after.substr(0, 1024),
            std::string(100, 's') + std::string(924, 'u'));
  EXPECT_EQ(after.substr(1024), std::string(76, '\0'));
}

TEST(StorageFaultEnvTest, PowerLossUndoesUnsyncedDirectoryChanges) {
  ScratchDir dir;
  const std::string a = JoinPath(dir.path(), "a");
  const std::string b = JoinPath(dir.path(), "b");
  FaultEnv env;
  ASSERT_TRUE(WriteFileAtomically(&env, a, "a1").ok());  // durable
  // Replaced, but the directory is not synced: the old file comes back.
  env.FailAt(1, Op::kSyncDir);
  EXPECT_FALSE(WriteFileAtomically(&env, a, "a2").ok());
  // Created and synced, but its name never made durable: gone.
  auto f = env.NewWritableFile(b);
  ASSERT_TRUE(f.ok() && (*f)->Append("b").ok() && (*f)->Sync().ok());
  env.PowerLoss(FaultEnv::Loss::kDropUnsynced);
  EXPECT_EQ(ReadAll(a), "a1");
  EXPECT_FALSE(Env::Default()->FileExists(b));
  EXPECT_FALSE(Env::Default()->FileExists(a + ".tmp"));
}

TEST(StorageFaultEnvTest, PowerLossBringsBackAnUnsyncedRemovalErased) {
  ScratchDir dir;
  const std::string a = JoinPath(dir.path(), "a");
  FaultEnv env;
  ASSERT_TRUE(WriteFileAtomically(&env, a, "vectors").ok());
  ASSERT_TRUE(env.EraseFile(a).ok());
  env.PowerLoss(FaultEnv::Loss::kDropUnsynced);
  // The unlink was not durable; the zeros were.
  EXPECT_EQ(ReadAll(a), std::string(7, '\0'));
}

}  // namespace
}  // namespace candor::storage
