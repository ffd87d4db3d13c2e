#include "server/telemetry/audit_chain.h"

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace candor::telemetry {
namespace {

constexpr char kHashMember[] = ",\"hash\":\"";
constexpr char kPrefix[] = "audit-";
constexpr char kSuffix[] = ".jsonl";
constexpr size_t kSeqDigits = 20;
constexpr size_t kHexDigits = 64;

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(),
             nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string SealRecord(const AuditJson& body, std::string* hash) {
  std::string line = body.dump();
  *hash = Sha256Hex(line);
  line.pop_back();  // the closing '}'
  absl::StrAppend(&line, kHashMember, *hash, "\"}\n");
  return line;
}

absl::StatusOr<OpenedRecord> OpenRecord(std::string_view line) {
  // JSON escapes every '"' inside strings, so the last `,"hash":"` is the
  // member the writer appended.
  const size_t at = line.rfind(kHashMember);
  const size_t hash_begin = at + sizeof(kHashMember) - 1;
  if (at == std::string_view::npos ||
      line.size() != hash_begin + kHexDigits + 2 ||
      line.substr(line.size() - 2) != "\"}") {
    return absl::DataLossError("record has no hash member at its end");
  }
  OpenedRecord record;
  record.hash = std::string(line.substr(hash_begin, kHexDigits));
  std::string body(line.substr(0, at));
  body.push_back('}');
  if (Sha256Hex(body) != record.hash) {
    return absl::DataLossError("record does not match its own hash (edited)");
  }
  record.body = AuditJson::parse(body, nullptr, false);
  if (record.body.is_discarded() || !record.body.is_object() ||
      !record.body.contains("seq") || !record.body["seq"].is_number_unsigned() ||
      !record.body.contains("prev_hash") ||
      !record.body["prev_hash"].is_string()) {
    return absl::DataLossError("record is not a JSON object with seq and prev_hash");
  }
  return record;
}

std::string AuditFileName(uint64_t first_seq) {
  return absl::StrFormat("%s%020d%s", kPrefix, first_seq, kSuffix);
}

bool IsAuditFileName(std::string_view name) {
  if (name.size() != sizeof(kPrefix) - 1 + kSeqDigits + sizeof(kSuffix) - 1 ||
      name.substr(0, sizeof(kPrefix) - 1) != kPrefix ||
      name.substr(name.size() - (sizeof(kSuffix) - 1)) != kSuffix) {
    return false;
  }
  const std::string_view digits = name.substr(sizeof(kPrefix) - 1, kSeqDigits);
  return std::all_of(digits.begin(), digits.end(),
                     [](char c) { return absl::ascii_isdigit(c); });
}

absl::StatusOr<std::vector<std::string>> ListAuditFiles(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && IsAuditFileName(name)) names.push_back(name);
  }
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat("cannot list audit folder ", dir, ": ", ec.message()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace candor::telemetry
