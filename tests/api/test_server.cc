#include "tests/api/test_server.h"

#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace candor::testing {

std::string MakeTempDir(const std::string& prefix) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  char* made = mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr);
  return pattern;
}

void RemoveTree(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

api::ServerOptions TestServer::DefaultOptions() {
  api::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.metrics_listen = "";
  options.backend = index::Backend::kCpu;
  options.limits.max_batch = 64;
  options.limits.max_top_k = 100;
  options.limits.max_message_bytes = 1 << 20;
  options.drain_timeout = absl::Seconds(5);
  return options;
}

TestServer::TestServer(api::ServerOptions options) : options_(options) {
  data_dir_ = MakeTempDir("candor-api-test");
  options_.store.data_dir = data_dir_;
  options_.audit_dir = data_dir_ + "/audit";
  Start();
}

TestServer::~TestServer() {
  Stop();
  RemoveTree(data_dir_);
}

void TestServer::Start() {
  auto server = api::CandorServer::Start(options_);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
  auto channel = grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  stub_ = v1::Candor::NewStub(channel);
}

void TestServer::Stop() {
  if (server_) server_->Shutdown();
  server_.reset();
  stub_.reset();
}

void TestServer::Restart() {
  Stop();
  Start();
}

std::string TestServer::address() const {
  return absl::StrCat("127.0.0.1:", server_->port());
}

std::vector<nlohmann::json> ReadAuditRecords(const std::string& data_dir,
                                             const std::string& operation) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(
           std::filesystem::path(data_dir) / "audit", ec)) {
    files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<nlohmann::json> out;
  for (const auto& f : files) {
    std::ifstream in(f);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object()) continue;
      if (operation.empty() || j.value("operation", "") == operation) {
        out.push_back(std::move(j));
      }
    }
  }
  return out;
}

v1::Matrix PackRows(const std::vector<float>& values, uint32_t rows,
                    uint32_t cols) {
  v1::Matrix m;
  m.set_rows(rows);
  m.set_cols(cols);
  m.set_data(std::string(reinterpret_cast<const char*>(values.data()),
                         values.size() * sizeof(float)));
  return m;
}

}  // namespace candor::testing
