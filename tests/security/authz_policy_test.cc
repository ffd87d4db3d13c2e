#include "server/security/authz_policy.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace candor::security {
namespace {

std::string Path(const std::string& method) {
  return "/candor.v1.Candor/" + method;
}

constexpr char kPolicy[] = R"({
  "name": "p",
  "deny_rules": [
    {"name": "no-erasing-by-batch",
     "source": {"principals": ["spiffe://t/ops/batch*"]},
     "request": {"paths": ["/candor.v1.Candor/Remove"]}}
  ],
  "allow_rules": [
    {"name": "searcher",
     "source": {"principals": ["spiffe://t/sa/searcher", "dns:*"]},
     "request": {"paths": ["/candor.v1.Candor/Search"]}},
    {"name": "ops", "source": {"principals": ["spiffe://t/ops/*"]}},
    {"name": "anyone-lists", "request": {"paths": ["*/ListGalleries"]}}
  ]
})";

TEST(AuthzPolicy, AllowRulesGrantTheirPathsToTheirPrincipalsOnly) {
  auto policy = AuthzPolicy::Parse(kPolicy);
  ASSERT_TRUE(policy.ok()) << policy.status();
  std::string why;
  EXPECT_TRUE(policy->Allows("spiffe://t/sa/searcher", Path("Search"), &why));
  EXPECT_FALSE(policy->Allows("spiffe://t/sa/searcher", Path("Enroll"), &why));
  EXPECT_EQ(why, "no allow rule of policy 'p' grants it");
  EXPECT_FALSE(policy->Allows("spiffe://t/sa/searcherX", Path("Search"), &why));
  // A prefix pattern; a rule without paths grants every method.
  EXPECT_TRUE(policy->Allows("spiffe://t/ops/alice", Path("DeleteGallery"), &why));
  EXPECT_FALSE(policy->Allows("spiffe://t/opsalice", Path("DeleteGallery"), &why));
  // A rule without a source admits unauthenticated callers too.
  EXPECT_TRUE(policy->Allows("", Path("ListGalleries"), &why));
  // A principal pattern never matches the unauthenticated caller.
  EXPECT_FALSE(policy->Allows("", Path("Search"), &why));
}

TEST(AuthzPolicy, DenyRulesWinOverAllowRules) {
  auto policy = AuthzPolicy::Parse(kPolicy);
  ASSERT_TRUE(policy.ok()) << policy.status();
  std::string why;
  EXPECT_TRUE(policy->Allows("spiffe://t/ops/batch-1", Path("Enroll"), &why));
  EXPECT_FALSE(policy->Allows("spiffe://t/ops/batch-1", Path("Remove"), &why));
  EXPECT_EQ(why, "deny rule 'no-erasing-by-batch' of policy 'p' matches");
}

TEST(AuthzPolicy, RefusesMalformedPoliciesNamingWhat) {
  const std::pair<const char*, const char*> cases[] = {
      {"{", "not valid JSON"},
      {R"({"allow_rules": []})", "\"name\""},
      {R"({"name": "x"})", "allow_rules"},
      {R"({"name": "x", "allow_rules": [{"source": {}}]})", "needs a non-empty"},
      {R"({"name": "x", "allow_rules": [{"name": "r",
          "source": {"principal": ["a"]}}]})", "unknown member 'principal'"},
      {R"({"name": "x", "allow_rule": []})", "unknown member 'allow_rule'"},
      {R"({"name": "x", "allow_rules": [{"name": "r",
          "request": {"paths": ["/a*b"]}}]})", "'*' only"},
  };
  for (const auto& [bad, why] : cases) {
    auto policy = AuthzPolicy::Parse(bad);
    EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(policy.status().message().find(why), std::string::npos)
        << policy.status() << " for " << bad;
  }
  auto headers = AuthzPolicy::Parse(R"({"name": "x", "allow_rules": [
      {"name": "h", "request": {"headers": [{"key": "k", "values": ["v"]}]}}]})");
  ASSERT_FALSE(headers.ok());
  EXPECT_NE(headers.status().message().find("request.headers"), std::string::npos);
}

TEST(AuthzPolicy, TheShippedRolesFileParses) {
  std::ifstream in(CANDOR_ROLES_JSON);
  std::stringstream text;
  text << in.rdbuf();
  auto policy = AuthzPolicy::Parse(text.str());
  ASSERT_TRUE(policy.ok()) << policy.status();
  const std::string searcher = "spiffe://cluster.local/ns/candor/sa/searcher";
  std::string why;
  EXPECT_TRUE(policy->Allows(searcher, Path("Search"), &why));
  EXPECT_FALSE(policy->Allows(searcher, Path("SetPolicy"), &why));
  EXPECT_TRUE(policy->Allows("spiffe://cluster.local/ns/candor/sa/admin",
                             Path("SetPolicy"), &why));
}

TEST(AuthzPolicyFile, AppliesEditsAndKeepsThePreviousPolicyOnABadEdit) {
  const std::string path = ::testing::TempDir() + "/authz_policy_file." +
                           std::to_string(getpid()) + ".json";
  auto write = [&](const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  };
  write(R"({"name": "v1", "allow_rules": [{"name": "a",
      "source": {"principals": ["alice"]}}]})");
  auto file = AuthzPolicyFile::Open(path, absl::ZeroDuration());
  ASSERT_TRUE(file.ok()) << file.status();
  std::string why;
  EXPECT_TRUE((*file)->Current()->Allows("alice", Path("Search"), &why));
  write(R"({"name": "v2", "allow_rules": [{"name": "b",
      "source": {"principals": ["bob"]}}]})");
  EXPECT_EQ((*file)->Current()->name(), "v2");
  EXPECT_FALSE((*file)->Current()->Allows("alice", Path("Search"), &why));
  EXPECT_TRUE((*file)->Current()->Allows("bob", Path("Search"), &why));
  write("{ not json");
  EXPECT_EQ((*file)->Current()->name(), "v2");
}

}  // namespace
}  // namespace candor::security
