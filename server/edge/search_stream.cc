#include "server/edge/search_stream.h"

#include <atomic>
#include <utility>

#include "server/edge/status_util.h"

namespace candor::api {
namespace {

class SearchStreamReactor final
    : public grpc::ServerBidiReactor<v1::SearchRequest, v1::SearchResponse> {
 public:
  explicit SearchStreamReactor(StartStreamSearch start)
      : start_(std::move(start)) {
    // gRPC may run OnReadDone on another thread than this constructor and
    // orders the two in its core, which ThreadSanitizer does not see
    // (Debian's gRPC is not instrumented). This release, and the acquire
    // in OnReadDone, state that order in candor's own code, so the
    // reactor's state (start_ and what it captured) stays checked.
    constructed_.store(true, std::memory_order_release);
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    (void)constructed_.load(std::memory_order_acquire);
    if (!ok) {  // the client half-closed: every request has been answered
      Finish(grpc::Status::OK);
      return;
    }
    response_.Clear();
    start_(request_, &response_, [this](absl::Status status) {
      if (!status.ok()) {
        Finish(ToGrpcStatus(status));
        return;
      }
      StartWrite(&response_);
    });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stream write failed"));
      return;
    }
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  const StartStreamSearch start_;
  std::atomic<bool> constructed_{false};
  v1::SearchRequest request_;
  v1::SearchResponse response_;
};

class RefusedSearchStream final
    : public grpc::ServerBidiReactor<v1::SearchRequest, v1::SearchResponse> {
 public:
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerBidiReactor<v1::SearchRequest, v1::SearchResponse>*
NewRefusedSearchStream() {
  return new RefusedSearchStream();
}

grpc::ServerBidiReactor<v1::SearchRequest, v1::SearchResponse>*
NewSearchStreamReactor(StartStreamSearch start) {
  return new SearchStreamReactor(std::move(start));
}

}  // namespace candor::api
