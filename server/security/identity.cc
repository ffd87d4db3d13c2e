#include "server/security/identity.h"

#include <grpc/grpc_security_constants.h>

namespace candor::security {
namespace {

std::string FirstProperty(const grpc::AuthContext& auth, const char* name) {
  for (const grpc::string_ref& value : auth.FindPropertyValues(name)) {
    if (!value.empty()) return std::string(value.data(), value.size());
  }
  return "";
}

}  // namespace

std::string CertificateIdentity(const grpc::AuthContext& auth) {
  // gRPC sets these only from a certificate that passed verification
  // (the server verifies every presented client certificate).
  if (!auth.IsPeerAuthenticated()) return "";
  for (const char* property :
       {GRPC_PEER_URI_PROPERTY_NAME, GRPC_PEER_DNS_PROPERTY_NAME,
        GRPC_X509_CN_PROPERTY_NAME}) {
    std::string value = FirstProperty(auth, property);
    if (!value.empty()) return value;
  }
  return "";
}

}  // namespace candor::security
