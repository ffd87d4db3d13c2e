#include "tests/security/tls_test_util.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"

namespace candor::testing {

void MakeTestCerts(const std::string& dir) {
  if (std::filesystem::exists(dir + "/ca.pem")) return;
  const std::string command =
      absl::StrCat("bash ", CANDOR_MAKE_TEST_CERTS, " ", dir);
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address,
                                          const std::string& cert_dir,
                                          const std::string& client) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFile(cert_dir + "/ca.pem");
  if (!client.empty()) {
    ssl.pem_cert_chain = ReadFile(absl::StrCat(cert_dir, "/", client, ".pem"));
    ssl.pem_private_key =
        ReadFile(absl::StrCat(cert_dir, "/", client, "-key.pem"));
  }
  grpc::ChannelArguments args;
  // One connection per channel: each identity keeps its own.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

grpc::Status GenericUnary(grpc::Channel* channel, const std::string& method,
                          const std::string& request_bytes,
                          std::string* response_bytes) {
  grpc::TemplatedGenericStub<grpc::ByteBuffer, grpc::ByteBuffer> stub(
      channel->shared_from_this());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (status.ok() && response_bytes != nullptr) {
    std::vector<grpc::Slice> slices;
    (void)response.Dump(&slices);
    response_bytes->clear();
    for (const grpc::Slice& s : slices) {
      response_bytes->append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  return status;
}

std::string TestIdentity(const std::string& name) {
  return "spiffe://candor.test/ns/candor/sa/" + name;
}

}  // namespace candor::testing
