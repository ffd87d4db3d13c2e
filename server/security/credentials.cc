#include "server/security/credentials.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "server/common/log.h"

namespace candor::security {
namespace {

using grpc::experimental::FileWatcherCertificateProvider;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

absl::StatusOr<std::unique_ptr<BIO, BioFree>> OpenPem(const std::string& flag,
                                                      const std::string& path) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": cannot read '", path, "'"));
  }
  return bio;
}

absl::StatusOr<std::unique_ptr<X509, X509Free>> ReadCert(
    const std::string& flag, const std::string& path) {
  auto bio = OpenPem(flag, path);
  if (!bio.ok()) return bio.status();
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(bio->get(), nullptr, nullptr, nullptr));
  if (!cert) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, ": '", path, "' holds no PEM certificate"));
  }
  return cert;
}

absl::Status CheckCertAndKey(const std::string& cert_flag,
                             const std::string& cert_path,
                             const std::string& key_flag,
                             const std::string& key_path) {
  auto cert = ReadCert(cert_flag, cert_path);
  if (!cert.ok()) return cert.status();
  auto bio = OpenPem(key_flag, key_path);
  if (!bio.ok()) return bio.status();
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(bio->get(), nullptr, nullptr, nullptr));
  if (!key) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", key_flag, ": '", key_path, "' holds no PEM private key"));
  }
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", key_flag, ": '", key_path,
                     "' is not the key of the certificate in '", cert_path,
                     "'"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsLoopbackAddress(const std::string& listen) {
  std::string host = listen;
  if (absl::StartsWith(host, "[")) {
    const size_t close = host.find(']');
    if (close == std::string::npos) return false;
    host = host.substr(1, close - 1);
  } else if (const size_t colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  if (host == "localhost" || host == "::1") return true;
  std::vector<std::string> octets = absl::StrSplit(host, '.');
  int first = 0;
  return octets.size() == 4 && absl::SimpleAtoi(octets[0], &first) &&
         first == 127;
}

absl::Status CheckTlsFiles(const SecurityOptions& options) {
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert and --tls_key: give both or neither");
  }
  if (!options.tls()) {
    if (!options.tls_client_ca.empty() || !options.token_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca and --token_file need --tls_cert and --tls_key "
          "(client certificates and tokens are only accepted over TLS)");
    }
    return absl::OkStatus();
  }
  if (options.tls_refresh_s <= 0) {
    return absl::InvalidArgumentError("--tls_refresh_s: must be positive");
  }
  absl::Status s = CheckCertAndKey("tls_cert", options.tls_cert, "tls_key",
                                   options.tls_key);
  if (!s.ok()) return s;
  if (!options.tls_client_ca.empty()) {
    auto ca = ReadCert("tls_client_ca", options.tls_client_ca);
    if (!ca.ok()) return ca.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const SecurityOptions& options, const std::string& listen) {
  if (absl::Status s = CheckTlsFiles(options); !s.ok()) return s;
  if (!options.tls()) {
    if (!IsLoopbackAddress(listen)) {
      if (!options.allow_insecure) {
        return absl::FailedPreconditionError(absl::StrCat(
            "--listen=", listen,
            " is not a loopback address and no --tls_cert/--tls_key is "
            "given: refusing to serve biometric searches in plaintext. Give "
            "TLS files, or --allow_insecure when a mesh sidecar terminates "
            "mTLS in front of this server"));
      }
      LogWarning(absl::StrCat(
          "serving PLAINTEXT on ", listen,
          " (--allow_insecure): callers are not authenticated here; only "
          "safe behind a sidecar that terminates mTLS"));
    }
    return grpc::InsecureServerCredentials();
  }
  auto provider = std::make_shared<FileWatcherCertificateProvider>(
      options.tls_key, options.tls_cert, options.tls_client_ca,
      static_cast<unsigned int>(options.tls_refresh_s));
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  if (!options.tls_client_ca.empty()) {
    tls.watch_root_certs();
    // Requested and verified when presented, but not required at the
    // handshake: a caller without one may still bring a token, and one with
    // neither is refused per call with UNAUTHENTICATED (and audited).
    tls.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(tls);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeShardChannelCredentials(const SecurityOptions& options,
                            const std::string& shard_ca) {
  if (shard_ca.empty()) {
    if (options.tls()) {
      return absl::InvalidArgumentError(
          "--shard_tls_ca: a router serving TLS talks to its shards over "
          "mTLS; give the CA bundle that signed the shards' certificates");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (!options.tls()) {
    return absl::InvalidArgumentError(
        "--shard_tls_ca needs the router's own --tls_cert and --tls_key (its "
        "client certificate towards the shards)");
  }
  if (auto ca = ReadCert("shard_tls_ca", shard_ca); !ca.ok()) {
    return ca.status();
  }
  auto provider = std::make_shared<FileWatcherCertificateProvider>(
      options.tls_key, options.tls_cert, shard_ca,
      static_cast<unsigned int>(options.tls_refresh_s));
  grpc::experimental::TlsChannelCredentialsOptions tls;
  tls.set_certificate_provider(provider);
  tls.watch_root_certs();
  tls.watch_identity_key_cert_pairs();
  return grpc::experimental::TlsCredentials(tls);
}

}  // namespace candor::security
