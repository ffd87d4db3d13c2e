// The audit key file: loading, refusing short keys, creating one 0600.
#include "server/telemetry/audit_key.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace candor::telemetry {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class AuditKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           absl::StrCat(
               "audit_key_", ::getpid(), "_",
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content,
                    int mode) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << content;
    fs::permissions(path, fs::perms(mode));
    return path;
  }

  fs::path dir_;
};

TEST_F(AuditKeyTest, LoadsTheFileWithoutTrailingWhitespace) {
  const std::string hex(64, 'a');
  const std::string path = Write("key", hex + "\n", 0600);
  absl::StatusOr<std::string> key = LoadAuditKey(path);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, hex);
  EXPECT_TRUE(KeyFileIsPrivate(path));
}

TEST_F(AuditKeyTest, ShortOrMissingKeySaysHowToMakeOne) {
  const std::string path = Write("short", std::string(31, 'k') + " \n", 0600);
  absl::Status s = LoadAuditKey(path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("holds 31 bytes"));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("openssl rand -hex 32 > " + path));
  s = LoadAuditKey((dir_ / "missing").string()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("openssl rand -hex 32"));
}

TEST_F(AuditKeyTest, ReadableByOthersIsNotPrivate) {
  EXPECT_FALSE(KeyFileIsPrivate(Write("open", std::string(64, 'a'), 0644)));
  EXPECT_FALSE(KeyFileIsPrivate((dir_ / "missing").string()));
  // Group bits are fine for this process's own group (a Kubernetes Secret
  // mounted 0440 with the pod's fsGroup), not for another group.
  const std::string group = Write("group", std::string(64, 'a'), 0640);
  ASSERT_EQ(chown(group.c_str(), static_cast<uid_t>(-1), getegid()), 0);
  EXPECT_TRUE(KeyFileIsPrivate(group));
  if (geteuid() == 0) {  // only root may give a file to another group
    ASSERT_EQ(chown(group.c_str(), static_cast<uid_t>(-1), getegid() + 4242), 0);
    EXPECT_FALSE(KeyFileIsPrivate(group));
  }
}

TEST_F(AuditKeyTest, CreatesA0600KeyOnceAndKeepsIt) {
  const std::string path = (dir_ / "made").string();
  absl::StatusOr<std::string> key = LoadOrCreateAuditKey(path);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->size(), 64u);
  EXPECT_TRUE(std::all_of(key->begin(), key->end(),
                          [](char c) { return absl::ascii_isxdigit(c); }));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600);
  EXPECT_EQ(LoadOrCreateAuditKey(path).value_or(""), *key);
  // Another path gets another key; no temporary file is left behind.
  EXPECT_NE(LoadOrCreateAuditKey((dir_ / "other").string()).value_or(*key),
            *key);
  EXPECT_EQ(
      std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 2);
}

TEST_F(AuditKeyTest, WritePrivateFileWithoutReplaceKeepsTheFirst) {
  const std::string path = (dir_ / "f").string();
  ASSERT_TRUE(WritePrivateFile(path, "one", /*replace=*/false).ok());
  EXPECT_EQ(WritePrivateFile(path, "two", /*replace=*/false).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(LoadAuditKey(path).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(
      WritePrivateFile(path, std::string(40, 'z'), /*replace=*/true).ok());
  EXPECT_EQ(LoadAuditKey(path).value_or(""), std::string(40, 'z'));
}

}  // namespace
}  // namespace candor::telemetry
