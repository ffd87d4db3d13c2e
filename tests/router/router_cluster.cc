#include "tests/router/router_cluster.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/api/test_server.h"

namespace candor::testing {

void RouterCluster::Start(const std::string& name, int shard_count) {
  root = MakeTempDir(name);
  for (int i = 0; i < shard_count; ++i) {
    shards.push_back(std::make_unique<ServerProcess>(
        ServerBinary(), ShardDir(i), std::vector<std::string>{"--threads=1"}));
    ASSERT_TRUE(shards.back()->running()) << "shard " << i << " did not start";
    shard_addresses.push_back(shards.back()->address());
  }
  single = std::make_unique<ServerProcess>(
      ServerBinary(), root + "/single", std::vector<std::string>{"--threads=1"});
  ASSERT_TRUE(single->running()) << "the single server did not start";
  single_stub = single->NewStub();
}

RouterCluster::~RouterCluster() {
  single_stub.reset();
  single.reset();
  shards.clear();
  if (!root.empty()) RemoveTree(root);
}

std::string RouterCluster::ShardDir(int i) const {
  return absl::StrCat(root, "/shard-", i);
}

std::unique_ptr<ServerProcess> RouterCluster::StartRouter(
    const std::string& dir, std::vector<std::string> flags) const {
  flags.insert(flags.begin(),
               {"--role=router",
                "--shards=" + absl::StrJoin(shard_addresses, ",")});
  return std::make_unique<ServerProcess>(ServerBinary(), root + "/" + dir,
                                         std::move(flags));
}

}  // namespace candor::testing
