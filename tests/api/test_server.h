// A real candor server in the test process, on a loopback port chosen by
// the kernel, over a fresh temporary data directory.
#ifndef CANDOR_TESTS_API_TEST_SERVER_H_
#define CANDOR_TESTS_API_TEST_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "candor/v1/candor.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "server/api/options.h"
#include "server/api/server.h"
#include "tests/lib/random_rows.h"

namespace candor::testing {

std::string MakeTempDir(const std::string& prefix);
void RemoveTree(const std::string& path);

class TestServer {
 public:
  // `tweak` may adjust the options (limits, policy) before start.
  explicit TestServer(api::ServerOptions options = DefaultOptions());
  ~TestServer();

  static api::ServerOptions DefaultOptions();

  // Stops and starts again on the same data directory (a restart).
  void Restart();
  void Stop();

  v1::Candor::Stub& stub() { return *stub_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string address() const;

 private:
  void Start();

  api::ServerOptions options_;
  std::string data_dir_;
  std::unique_ptr<api::CandorServer> server_;
  std::unique_ptr<v1::Candor::Stub> stub_;
};

// The audit records under `data_dir`/audit, oldest first; only those of
// `operation` when it is not empty. A line still being written is skipped.
std::vector<nlohmann::json> ReadAuditRecords(const std::string& data_dir,
                                             const std::string& operation = "");

// Packs rows x cols floats into a Matrix (little-endian float32).
v1::Matrix PackRows(const std::vector<float>& values, uint32_t rows,
                    uint32_t cols);

}  // namespace candor::testing

#endif  // CANDOR_TESTS_API_TEST_SERVER_H_
