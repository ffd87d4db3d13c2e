#include "server/security/token_store.h"

#include <unistd.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace candor::security {
namespace {

TEST(TokenStore, AcceptsKnownTokensOnlyAndNamesTheirIdentity) {
  const std::string path =
      ::testing::TempDir() + "/tokens." + std::to_string(getpid()) + ".txt";
  std::ofstream(path, std::ios::trunc)
      << "# comment\n\n"
      << Sha256HexOf("s3cret-batch") << " spiffe://t/sa/batch\n"
      << Sha256HexOf("other") << "\tspiffe://t/sa/other\n";
  auto store = TokenStore::Open(path, absl::ZeroDuration());
  ASSERT_TRUE(store.ok()) << store.status();
  auto id = (*store)->Authenticate("s3cret-batch");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "spiffe://t/sa/batch");
  EXPECT_EQ(*(*store)->Authenticate("other"), "spiffe://t/sa/other");
  for (const char* wrong : {"", "s3cret-batc", "s3cret-batch ", "S3CRET-BATCH"}) {
    auto refused = (*store)->Authenticate(wrong);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
    // The refusal never echoes what was presented.
    if (*wrong != '\0') {
      EXPECT_EQ(refused.status().message().find(wrong), std::string::npos);
    }
  }
  // Edits apply; a revoked token stops working.
  std::ofstream(path, std::ios::trunc)
      << Sha256HexOf("other") << " spiffe://t/sa/other\n";
  EXPECT_FALSE((*store)->Authenticate("s3cret-batch").ok());
  EXPECT_TRUE((*store)->Authenticate("other").ok());
}

TEST(TokenStore, RefusesMalformedLinesNamingTheLine) {
  for (const char* bad : {"abc spiffe://x\n", "not-hex-but-sixty-four-characters-long-xxxxxxxxxxxxxxxxxxxxxxxxxxxxx id\n",
                          "0000000000000000000000000000000000000000000000000000000000000000\n"}) {
    auto parsed = TokenStore::Parse(bad, "tokens.txt");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().message().find("line 1"), std::string::npos)
        << parsed.status();
  }
}

}  // namespace
}  // namespace candor::security
