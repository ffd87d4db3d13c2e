#include "clients/cli/command.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "clients/cli/table_output.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace candor::cli {
namespace {

constexpr absl::string_view kUsagePayload = "candor.cli/usage";
constexpr int64_t kMaxBatchRows = 1024;
constexpr int64_t kMaxBatchBytes = int64_t{3} << 20;

// The token in `path`: its contents without surrounding whitespace.
absl::StatusOr<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read --token-file ", path,
                                            ": ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  const std::string token(absl::StripAsciiWhitespace(text.str()));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--token-file ", path, " is empty"));
  }
  return token;
}

// A 64-bit integer the JSON mapping printed as a string, as a number.
void StringToNumber(google::protobuf::FieldDescriptor::CppType type,
                    nlohmann::json& value) {
  if (!value.is_string()) return;
  const std::string text = value.get<std::string>();
  if (type == google::protobuf::FieldDescriptor::CPPTYPE_UINT64) {
    uint64_t number;
    if (absl::SimpleAtoi(text, &number)) value = number;
  } else {
    int64_t number;
    if (absl::SimpleAtoi(text, &number)) value = number;
  }
}

// Walks `message` and its printed JSON together, turning the 64-bit
// integer fields back into numbers.
void Int64FieldsToNumbers(const google::protobuf::Message& message,
                          nlohmann::json& json) {
  using google::protobuf::FieldDescriptor;
  if (!json.is_object()) return;  // well-known types print as scalars
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const google::protobuf::Reflection* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    auto it = json.find(field->name());
    if (it == json.end() || field->is_map()) continue;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT64:
        if (field->is_repeated() && it->is_array()) {
          for (nlohmann::json& element : *it) {
            StringToNumber(field->cpp_type(), element);
          }
        } else {
          StringToNumber(field->cpp_type(), *it);
        }
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        if (field->is_repeated()) {
          const int count = reflection->FieldSize(message, field);
          for (int k = 0; k < count && k < static_cast<int>(it->size()); ++k) {
            Int64FieldsToNumbers(
                reflection->GetRepeatedMessage(message, field, k), (*it)[k]);
          }
        } else {
          Int64FieldsToNumbers(reflection->GetMessage(message, field), *it);
        }
        break;
      default:
        break;
    }
  }
}

}  // namespace

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayload, absl::Cord("1"));
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

void AddGlobalOptions(CLI::App& app, GlobalOptions* global) {
  app.add_option("--server", global->server, "server address (host:port)")
      ->envname("CANDOR_SERVER")
      ->capture_default_str();
  app.add_option("--timeout-s", global->timeout_s,
                 "deadline of each RPC in seconds, 0 for none")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--tls-ca", global->tls_ca,
                 "PEM bundle of the CA that signed the server's certificate "
                 "(turns TLS on)")
      ->envname("CANDOR_TLS_CA");
  app.add_option("--tls-cert", global->tls_cert,
                 "PEM client certificate for mutual TLS (with --tls-key)")
      ->envname("CANDOR_TLS_CERT");
  app.add_option("--tls-key", global->tls_key, "PEM private key of --tls-cert")
      ->envname("CANDOR_TLS_KEY");
  app.add_option("--token-file", global->token_file,
                 "file holding a bearer token, sent over TLS only")
      ->envname("CANDOR_TOKEN_FILE");
}

absl::Status CheckGlobalOptions(const GlobalOptions& global) {
  if (!global.tls_cert.empty() && global.tls_key.empty()) {
    return UsageError("--tls-cert needs --tls-key (its private key)");
  }
  if (global.tls_cert.empty() && !global.tls_key.empty()) {
    return UsageError("--tls-key needs --tls-cert (the certificate)");
  }
  if (!global.token_file.empty() && global.tls_ca.empty() &&
      global.tls_cert.empty()) {
    return UsageError(
        "--token-file needs TLS: a token is never sent in plaintext; give "
        "--tls-ca (the CA that signed the server's certificate)");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Client>> MakeClient(
    const GlobalOptions& global) {
  if (absl::Status s = CheckGlobalOptions(global); !s.ok()) return s;
  ConnectionOptions options;
  options.address = global.server;
  options.tls_ca = global.tls_ca;
  options.tls_cert = global.tls_cert;
  options.tls_key = global.tls_key;
  if (!global.token_file.empty()) {
    absl::StatusOr<std::string> token = ReadToken(global.token_file);
    if (!token.ok()) return token.status();
    options.token = *std::move(token);
  }
  return Client::Connect(options, absl::Seconds(global.timeout_s));
}

int64_t DefaultBatchRows(int64_t dim) {
  const int64_t by_bytes = kMaxBatchBytes / (std::max<int64_t>(dim, 1) * 4);
  return std::max<int64_t>(1, std::min(kMaxBatchRows, by_bytes));
}

nlohmann::json ProtoToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  // Printing a valid message cannot fail; an empty object stands in if the
  // library ever says otherwise.
  if (!google::protobuf::util::MessageToJsonString(message, &text, options)
           .ok()) {
    return nlohmann::json::object();
  }
  nlohmann::json json = nlohmann::json::parse(text);
  Int64FieldsToNumbers(message, json);
  return json;
}

void AddFormatOption(CLI::App* sub, std::string* format) {
  sub->add_option("--format", *format, "output format: json or table")
      ->check(CLI::IsMember({"json", "table"}))
      ->capture_default_str();
}

void PrintFormatted(const nlohmann::json& value, const std::string& format) {
  if (format == "table") {
    PrintTable(value, std::cout);
  } else {
    std::cout << value.dump(2) << "\n";
  }
}

std::string NoServerPrefix(const absl::Status& status,
                           const GlobalOptions& global) {
  if (status.code() != absl::StatusCode::kUnavailable) return "";
  // gRPC's own words when no connection was made; a server that answers
  // UNAVAILABLE (its audit log down, say) says something else.
  const std::string message = absl::AsciiStrToLower(status.message());
  for (absl::string_view sign :
       {"failed to connect", "connection refused", "dns resolution",
        "name resolution", "domain name not found", "no route to host"}) {
    if (absl::StrContains(message, sign)) {
      return absl::StrCat("no candor server at ", global.server,
                          " (--server or CANDOR_SERVER): ");
    }
  }
  return "";
}

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace candor::cli
