// A sharded deployment in processes, for the router's integration tests:
// shard servers, one single server (the oracle, which the test fills with
// the same entries) and the routers the test starts over the shards, all
// candor-server processes under one temporary root.
#ifndef CANDOR_TESTS_ROUTER_ROUTER_CLUSTER_H_
#define CANDOR_TESTS_ROUTER_ROUTER_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "candor/v1/candor.grpc.pb.h"
#include "tests/integration/server_process.h"

namespace candor::testing {

struct RouterCluster {
  // Starts `shard_count` shards and the single server (each --threads=1)
  // under a new temporary root named after `name`; adds a gtest failure
  // when one does not run (check with ::testing::Test::HasFatalFailure).
  void Start(const std::string& name, int shard_count);
  // Stops the single server and the shards and removes the root. A test's
  // routers must be gone first (declare them after the cluster).
  ~RouterCluster();

  std::string ShardDir(int i) const;
  // A router over the shards in <root>/<dir>, with `flags` after its role
  // and shard list.
  std::unique_ptr<ServerProcess> StartRouter(
      const std::string& dir, std::vector<std::string> flags) const;

  std::string root;
  std::vector<std::unique_ptr<ServerProcess>> shards;
  std::vector<std::string> shard_addresses;
  std::unique_ptr<ServerProcess> single;
  std::unique_ptr<v1::Candor::Stub> single_stub;
};

}  // namespace candor::testing

#endif  // CANDOR_TESTS_ROUTER_ROUTER_CLUSTER_H_
