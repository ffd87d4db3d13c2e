// The flags of the two roles: the server reads the common flags and its
// own, the router the common ones and its own (never the server's, so a
// server-only value cannot stop a router), and --threads is the deprecated
// name of --gemm_threads.
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/api/flags.h"
#include "server/router/router_options.h"

ABSL_DECLARE_FLAG(int, gemm_threads);
ABSL_DECLARE_FLAG(int, threads);
ABSL_DECLARE_FLAG(std::string, backend);
ABSL_DECLARE_FLAG(int, max_top_k);
ABSL_DECLARE_FLAG(std::string, listen);
ABSL_DECLARE_FLAG(std::string, policy_action);

namespace candor::api {
namespace {

using ::testing::HasSubstr;

TEST(ServerFlagsTest, GemmThreadsSetsTheSearchGemmThreads) {
  absl::FlagSaver saver;
  absl::SetFlag(&FLAGS_gemm_threads, 3);
  auto options = OptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->gemm_threads, 3);
}

TEST(ServerFlagsTest, OldThreadsNameStillSetsGemmThreads) {
  absl::FlagSaver saver;
  absl::SetFlag(&FLAGS_threads, 5);
  auto options = OptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->gemm_threads, 5);
}

TEST(ServerFlagsTest, BothNamesDisagreeingIsRefused) {
  absl::FlagSaver saver;
  absl::SetFlag(&FLAGS_gemm_threads, 3);
  absl::SetFlag(&FLAGS_threads, 5);
  auto options = OptionsFromFlags();
  ASSERT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(options.status().message(), HasSubstr("--gemm_threads"));
}

TEST(ServerFlagsTest, NonPositiveGemmThreadsIsRefused) {
  absl::FlagSaver saver;
  absl::SetFlag(&FLAGS_gemm_threads, 0);
  auto options = OptionsFromFlags();
  ASSERT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(options.status().message(), HasSubstr("--gemm_threads"));
}

TEST(ServerFlagsTest, PolicyActionBecomesTheEnum) {
  absl::FlagSaver saver;
  auto options = OptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->policy.action, telemetry::PolicyAction::kReject);
  absl::SetFlag(&FLAGS_policy_action, std::string("warn"));
  options = OptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->policy.action, telemetry::PolicyAction::kWarn);
  absl::SetFlag(&FLAGS_policy_action, std::string("Warn"));
  options = OptionsFromFlags();
  ASSERT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(options.status().message(), HasSubstr("--policy_action"));
}

TEST(RouterFlagsTest, ReadsCommonFlagsButNotTheServers) {
  absl::FlagSaver saver;
  absl::SetFlag(&FLAGS_backend, std::string("no-such-backend"));
  absl::SetFlag(&FLAGS_max_top_k, 7);
  absl::SetFlag(&FLAGS_listen, std::string("127.0.0.1:0"));
  absl::SetFlag(&FLAGS_policy_action, std::string("warn"));
  EXPECT_EQ(OptionsFromFlags().status().code(),
            absl::StatusCode::kInvalidArgument);
  auto router = router::RouterOptionsFromFlags();
  ASSERT_TRUE(router.ok()) << router.status();
  EXPECT_EQ(router->server.limits.max_top_k, 7);
  EXPECT_EQ(router->server.listen, "127.0.0.1:0");
  EXPECT_EQ(router->server.policy.action, telemetry::PolicyAction::kWarn);
}

TEST(RouterFlagsTest, BadCommonFlagStopsBothRoles) {
  absl::FlagSaver saver;
  absl::SetFlag(&FLAGS_max_top_k, 0);
  for (const absl::Status& status :
       {OptionsFromFlags().status(), router::RouterOptionsFromFlags().status()}) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("--max_top_k"));
  }
}

}  // namespace
}  // namespace candor::api
