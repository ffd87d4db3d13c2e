// The request path on untrusted bytes: the first byte picks Search, Enroll
// or Calibrate, the rest is parsed as that request and sent to a real
// server in this process (loopback), over a gallery of a few entries. Any
// answer is fine; a crash, a sanitizer report or a hang is the finding.
#include <chrono>
#include <memory>

#include "candor/v1/candor.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/api/server.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

constexpr int kDim = 4;

struct Fixture {
  std::unique_ptr<candor::api::CandorServer> server;
  std::unique_ptr<candor::v1::Candor::Stub> stub;
};

Fixture* Start() {
  auto* f = new Fixture();
  candor::api::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.metrics_listen = "";
  options.backend = candor::index::Backend::kCpu;
  options.limits.max_batch = 64;
  options.limits.max_top_k = 50;
  options.limits.max_message_bytes = 1 << 20;
  options.store.data_dir = candor::fuzz::ScratchDir() + "/data";
  options.audit_dir = options.store.data_dir + "/audit";
  options.drain_timeout = absl::Seconds(1);
  auto server = candor::api::CandorServer::Start(options);
  if (!server.ok()) std::abort();
  f->server = *std::move(server);
  f->stub = candor::v1::Candor::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(f->server->port()),
      grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  candor::v1::CreateGalleryRequest create;
  create.set_name("g");
  create.set_dimension(kDim);
  candor::v1::Gallery gallery;
  f->stub->CreateGallery(&ctx, create, &gallery);
  grpc::ClientContext ctx2;
  candor::v1::EnrollRequest enroll;
  enroll.set_gallery("g");
  enroll.mutable_vectors()->set_rows(3);
  enroll.mutable_vectors()->set_cols(kDim);
  const float rows[3 * kDim] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
  enroll.mutable_vectors()->set_data(
      std::string(reinterpret_cast<const char*>(rows), sizeof(rows)));
  for (const char* s : {"a", "a", "b"}) enroll.add_subject_ids(s);
  candor::v1::EnrollResponse enrolled;
  f->stub->Enroll(&ctx2, enroll, &enrolled);
  return f;
}

void WithDeadline(grpc::ClientContext* ctx) {
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* f = Start();
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  grpc::ClientContext ctx;
  WithDeadline(&ctx);
  switch (data[0] % 3) {
    case 0: {
      candor::v1::SearchRequest req;
      if (!req.ParseFromString(bytes)) return 0;
      candor::v1::SearchResponse resp;
      f->stub->Search(&ctx, req, &resp);
      break;
    }
    case 1: {
      candor::v1::EnrollRequest req;
      if (!req.ParseFromString(bytes)) return 0;
      candor::v1::EnrollResponse resp;
      f->stub->Enroll(&ctx, req, &resp);
      break;
    }
    default: {
      candor::v1::CalibrateRequest req;
      if (!req.ParseFromString(bytes)) return 0;
      candor::v1::CalibrationReport resp;
      f->stub->Calibrate(&ctx, req, &resp);
      break;
    }
  }
  return 0;
}
