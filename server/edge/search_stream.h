// SearchStream for the server and the router alike: read one request,
// answer it, write its response, then read the next. Responses come in
// request order. A failed request ends the stream with its status, as the
// same request would fail a unary Search.
#ifndef CANDOR_SERVER_EDGE_SEARCH_STREAM_H_
#define CANDOR_SERVER_EDGE_SEARCH_STREAM_H_

#include <functional>

#include "absl/status/status.h"
#include "candor/v1/candor.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace candor::api {

// Starts the search of one request: fills *response and calls `done`
// exactly once, possibly on another thread. Both pointers stay valid until
// then.
using StartStreamSearch = std::function<void(
    const v1::SearchRequest& request, v1::SearchResponse* response,
    std::function<void(absl::Status)> done)>;

// A reactor for one stream; it deletes itself when the call is done.
grpc::ServerBidiReactor<v1::SearchRequest, v1::SearchResponse>*
NewSearchStreamReactor(StartStreamSearch start);

// A reactor for a stream the gate refused: it reads nothing and waits for
// the caller's Finish (once the refusal is recorded).
grpc::ServerBidiReactor<v1::SearchRequest, v1::SearchResponse>*
NewRefusedSearchStream();

}  // namespace candor::api

#endif  // CANDOR_SERVER_EDGE_SEARCH_STREAM_H_
