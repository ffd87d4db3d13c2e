// Certificates and TLS channels for the security tests: the test CA and
// its clients made by tests/lib/make_test_certs.sh, one channel per
// identity, and generic calls to services candor does not generate stubs
// for (health, reflection).
#ifndef CANDOR_TESTS_SECURITY_TLS_TEST_UTIL_H_
#define CANDOR_TESTS_SECURITY_TLS_TEST_UTIL_H_

#include <memory>
#include <string>

#include "candor/v1/candor.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace candor::testing {

// Makes the test certificates in `dir` (once per directory).
void MakeTestCerts(const std::string& dir);
std::string ReadFile(const std::string& path);

// A TLS channel to `address` trusting the test CA in `cert_dir`,
// presenting `client` (e.g. "searcher" for searcher.pem/searcher-key.pem),
// or no certificate when `client` is empty.
std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address,
                                          const std::string& cert_dir,
                                          const std::string& client);

// One unary call of `method` ("/pkg.Service/Method") with raw request bytes.
grpc::Status GenericUnary(grpc::Channel* channel, const std::string& method,
                          const std::string& request_bytes,
                          std::string* response_bytes = nullptr);

// The test certificates' identities: spiffe://candor.test/ns/candor/sa/NAME.
std::string TestIdentity(const std::string& name);

}  // namespace candor::testing

#endif  // CANDOR_TESTS_SECURITY_TLS_TEST_UTIL_H_
