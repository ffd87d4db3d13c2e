// How a candor::Client reaches its server: plaintext, TLS, mutual TLS, and
// an optional bearer token.
#ifndef CANDOR_CLIENTS_CPP_CONNECTION_H_
#define CANDOR_CLIENTS_CPP_CONNECTION_H_

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace candor {

// Where and how to connect. Files are PEM, read once when the channel is
// made.
struct ConnectionOptions {
  // host:port, e.g. "127.0.0.1:50051" or "candor.example.org:443".
  std::string address;
  // TLS is used when this is set or any tls_* file is named; otherwise the
  // channel is plaintext (a loopback server, or a mesh whose sidecar
  // terminates mTLS).
  bool tls = false;
  // The CA bundle that verifies the server's certificate; empty: the
  // system's roots.
  std::string tls_ca;
  // The client certificate chain and its private key, for mutual TLS. Both
  // or neither.
  std::string tls_cert;
  std::string tls_key;
  // Sent as `authorization: Bearer <token>` on every call. Only over TLS: a
  // token on a plaintext channel is refused, never sent.
  std::string token;
};

bool UsesTls(const ConnectionOptions& options);

// The channel credentials `options` asks for. InvalidArgument for a
// certificate without its key (or the reverse), a token without TLS or a
// token that cannot be a header value; NotFound / InvalidArgument for a
// file that cannot be read or holds no PEM block.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeCredentials(
    const ConnectionOptions& options);

// A channel to options.address with those credentials and no cap on the
// size of responses (search responses grow with batch size x top_k).
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ConnectionOptions& options);

}  // namespace candor

#endif  // CANDOR_CLIENTS_CPP_CONNECTION_H_
