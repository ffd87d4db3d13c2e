#include "clients/cpp/connection.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace candor {
namespace {

// The contents of a PEM file; `what` names it in errors.
absl::StatusOr<std::string> ReadPem(absl::string_view what,
                                    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", what, " file ",
                                            path, ": ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return absl::DataLossError(
        absl::StrCat("cannot read ", what, " file ", path));
  }
  // gRPC would only fail at the first handshake, with a vaguer message.
  if (!absl::StrContains(text.str(), "-----BEGIN ")) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " file ", path, " holds no PEM block"));
  }
  return text.str();
}

// RFC 6750's token68 alphabet: what a bearer token may hold, so it goes
// into the header unchanged.
bool IsBearerToken(absl::string_view token) {
  if (token.empty()) return false;
  for (char c : token) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || absl::StrContains("-._~+/=", c);
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool UsesTls(const ConnectionOptions& options) {
  return options.tls || !options.tls_ca.empty() || !options.tls_cert.empty() ||
         !options.tls_key.empty();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeCredentials(
    const ConnectionOptions& options) {
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs its private key and the key its "
        "certificate: give both or neither");
  }
  if (!options.token.empty() && !IsBearerToken(options.token)) {
    return absl::InvalidArgumentError(
        "the bearer token holds characters a token may not (spaces, line "
        "breaks or control characters?)");
  }
  if (!UsesTls(options)) {
    if (!options.token.empty()) {
      return absl::InvalidArgumentError(
          "a bearer token is sent only over TLS: give the CA that signed the "
          "server's certificate (or ask for TLS with the system's roots)");
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.tls_ca.empty()) {
    absl::StatusOr<std::string> ca = ReadPem("TLS CA", options.tls_ca);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!options.tls_cert.empty()) {
    absl::StatusOr<std::string> cert =
        ReadPem("TLS certificate", options.tls_cert);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem("TLS key", options.tls_key);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::SslCredentials(ssl);
  if (options.token.empty()) return credentials;
  // gRPC's own bearer-token call credentials: `authorization: Bearer ...`
  // on every call, and gRPC itself refuses to send them on a channel below
  // privacy-and-integrity.
  return grpc::CompositeChannelCredentials(
      credentials, grpc::AccessTokenCredentials(options.token));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ConnectionOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeCredentials(options);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments args;
  // The caller decides how large a batch to send, so no receive cap
  // (-1 = unlimited).
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(options.address, *credentials, args);
}

}  // namespace candor
