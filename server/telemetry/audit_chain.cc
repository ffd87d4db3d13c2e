#include "server/telemetry/audit_chain.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace candor::telemetry {
namespace {

constexpr char kPrefix[] = "audit-";
constexpr char kSuffix[] = ".jsonl";
constexpr size_t kSeqDigits = 20;
constexpr size_t kHexDigits = 64;

std::string Hex(const unsigned char* bytes, unsigned int length) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), length));
}

// Plain SHA-256, which candor sealed records with before audit keys: only
// to tell such a file apart from a tampered one.
std::string Sha256Hex(absl::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(),
             nullptr);
  return Hex(digest, length);
}

}  // namespace

std::string HmacSha256Hex(absl::string_view key, absl::string_view bytes) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), mac,
       &length);
  return Hex(mac, length);
}

bool HashesEqual(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() &&
         CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string SealLine(const AuditJson& body, absl::string_view key,
                     absl::string_view member, std::string* mac) {
  // Invalid UTF-8 (from a client's string) becomes U+FFFD instead of an
  // exception on the writer thread.
  std::string line =
      body.dump(-1, ' ', false, AuditJson::error_handler_t::replace);
  const std::string digest = HmacSha256Hex(key, line);
  line.pop_back();  // the closing '}'
  absl::StrAppend(&line, ",\"", member, "\":\"", digest, "\"}\n");
  if (mac != nullptr) *mac = digest;
  return line;
}

absl::StatusOr<OpenedLine> OpenLine(absl::string_view line,
                                    absl::string_view key,
                                    absl::string_view member) {
  // JSON escapes every '"' inside strings, so the last `,"<member>":"` is
  // the member the writer appended.
  const std::string marker = absl::StrCat(",\"", member, "\":\"");
  const size_t at = line.rfind(marker);
  const size_t mac_begin = at + marker.size();
  if (at == absl::string_view::npos ||
      line.size() != mac_begin + kHexDigits + 2 ||
      line.substr(line.size() - 2) != "\"}") {
    return absl::DataLossError(
        absl::StrCat("no \"", member, "\" member at the end"));
  }
  OpenedLine opened;
  opened.mac = std::string(line.substr(mac_begin, kHexDigits));
  std::string body(line.substr(0, at));
  body.push_back('}');
  if (!HashesEqual(HmacSha256Hex(key, body), opened.mac)) {
    if (HashesEqual(Sha256Hex(body), opened.mac)) {
      return absl::DataLossError(
          "sealed with plain SHA-256 by a candor older than audit keys, not "
          "HMAC-SHA-256: move the older audit files aside");
    }
    return absl::DataLossError(absl::StrCat(
        "does not match its HMAC \"", member, "\" (edited, or another key)"));
  }
  opened.body = AuditJson::parse(body, nullptr, false);
  if (opened.body.is_discarded() || !opened.body.is_object()) {
    return absl::DataLossError("not a JSON object");
  }
  return opened;
}

std::string SealRecord(const AuditJson& body, absl::string_view key,
                       std::string* hash) {
  return SealLine(body, key, "hash", hash);
}

absl::StatusOr<OpenedRecord> OpenRecord(absl::string_view line,
                                        absl::string_view key) {
  absl::StatusOr<OpenedLine> opened = OpenLine(line, key, "hash");
  if (!opened.ok()) {
    return absl::DataLossError(
        absl::StrCat("record ", opened.status().message()));
  }
  const AuditJson& body = opened->body;
  if (!body.contains("seq") || !body["seq"].is_number_unsigned() ||
      !body.contains("prev_hash") || !body["prev_hash"].is_string()) {
    return absl::DataLossError("record has no seq and prev_hash");
  }
  return OpenedRecord{std::move(opened->body), std::move(opened->mac)};
}

std::string AuditFileName(uint64_t first_seq) {
  return absl::StrFormat("%s%020d%s", kPrefix, first_seq, kSuffix);
}

bool IsAuditFileName(absl::string_view name) {
  if (name.size() != sizeof(kPrefix) - 1 + kSeqDigits + sizeof(kSuffix) - 1 ||
      name.substr(0, sizeof(kPrefix) - 1) != kPrefix ||
      name.substr(name.size() - (sizeof(kSuffix) - 1)) != kSuffix) {
    return false;
  }
  const absl::string_view digits = name.substr(sizeof(kPrefix) - 1, kSeqDigits);
  return std::all_of(digits.begin(), digits.end(),
                     [](char c) { return absl::ascii_isdigit(c); });
}

uint64_t AuditFileFirstSeq(absl::string_view name) {
  const absl::string_view digits = name.substr(sizeof(kPrefix) - 1, kSeqDigits);
  uint64_t seq = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  return seq;
}

absl::StatusOr<std::vector<std::string>> ListAuditFiles(
    const std::string& dir) {
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
