// Per-gallery policies kept apart from any gallery (the router's).
#include "server/telemetry/policy_store.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/storage/fault_env.h"
#include "tests/telemetry/telemetry_test_util.h"

namespace candor::telemetry {
namespace {

using ::testing::HasSubstr;

TEST(PolicyStoreTest, SavedPoliciesSurviveReopening) {
  testing::ScratchDir dir;
  Policy p;
  p.max_fpir = 0.01;
  p.action = PolicyAction::kWarn;
  {
    auto store = PolicyStore::Open(dir.path());
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_FALSE((*store)->Find("g").max_fpir.has_value());
    ASSERT_TRUE((*store)->Save("g", p).ok());
    ASSERT_TRUE((*store)->Save("h", p).ok());
    (*store)->Forget("h");
  }
  auto store = PolicyStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Find("g").max_fpir, 0.01);
  EXPECT_EQ((*store)->Find("g").action, PolicyAction::kWarn);
  EXPECT_FALSE((*store)->Find("h").max_fpir.has_value());
}

TEST(PolicyStoreTest, AFailedWriteKeepsTheOldPolicy) {
  testing::ScratchDir dir;
  storage::testing::FaultEnv env;
  auto store = PolicyStore::Open(dir.path(), &env);
  ASSERT_TRUE(store.ok());
  Policy p;
  p.min_threshold = 0.3f;
  ASSERT_TRUE((*store)->Save("g", p).ok());
  env.FailAt(1, storage::testing::Op::kSync);
  p.min_threshold = 0.5f;
  EXPECT_FALSE((*store)->Save("g", p).ok());
  EXPECT_EQ((*store)->Find("g").min_threshold, 0.3f);
}

// A policy dropped would loosen what the operator asked for.
TEST(PolicyStoreTest, AnUnreadableFileFailsTheOpen) {
  testing::ScratchDir dir;
  { std::ofstream(dir.path() + "/g.policy") << "{not json"; }
  auto store = PolicyStore::Open(dir.path());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(store.status().message(), HasSubstr("g.policy"));
}

}  // namespace
}  // namespace candor::telemetry
