// gRPC credentials from SecurityOptions: the server's listening credentials
// (TLS with files re-read on rotation, or plaintext on loopback) and the
// router's credentials towards its shards (mTLS with its own certificate).
#ifndef CANDOR_SERVER_SECURITY_CREDENTIALS_H_
#define CANDOR_SERVER_SECURITY_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "server/security/security_options.h"

namespace candor::security {

// Whether "HOST:PORT" names a loopback host (localhost, 127.0.0.0/8, ::1).
bool IsLoopbackAddress(const std::string& listen);

// Checks the PEM files (cert chain parses, key parses and matches the
// certificate, CA bundle parses) so that a typo fails start-up with the
// file's name instead of failing every handshake later.
absl::Status CheckTlsFiles(const SecurityOptions& options);

// TLS credentials when options.tls(); plaintext only on a loopback `listen`
// or with allow_insecure (FailedPrecondition naming --allow_insecure
// otherwise). The certificate files are watched every tls_refresh_s.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const SecurityOptions& options, const std::string& listen);

// The router's channel credentials to its shards: TLS verifying the shards
// against `shard_ca` (PEM bundle), presenting the router's own certificate
// (options.tls_cert / tls_key), both watched for rotation. Plaintext when
// shard_ca is empty and the router itself runs without TLS.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeShardChannelCredentials(const SecurityOptions& options,
                            const std::string& shard_ca);

}  // namespace candor::security

#endif  // CANDOR_SERVER_SECURITY_CREDENTIALS_H_
