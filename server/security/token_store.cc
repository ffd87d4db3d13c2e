#include "server/security/token_store.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "server/common/log.h"
#include "server/security/flag_file.h"

namespace candor::security {
namespace {

constexpr size_t kDigestBytes = 32;

std::string Sha256Raw(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(),
             nullptr);
  return std::string(reinterpret_cast<const char*>(digest), length);
}


}  // namespace

std::string Sha256HexOf(const std::string& bytes) {
  return absl::BytesToHexString(Sha256Raw(bytes));
}

absl::StatusOr<std::vector<TokenStore::Entry>> TokenStore::Parse(
    const std::string& text, const std::string& path) {
  std::vector<Entry> entries;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const bool hex = fields.size() == 2 && fields[0].size() == 2 * kDigestBytes &&
                     std::all_of(fields[0].begin(), fields[0].end(),
                                 [](char c) { return absl::ascii_isxdigit(c); });
    if (!hex) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--token_file ", path, " line ", line_no,
          ": expected '<sha256 hex of the token> <identity>' (make the "
          "digest with: printf %s TOKEN | sha256sum)"));
    }
    entries.push_back({absl::HexStringToBytes(absl::AsciiStrToLower(fields[0])),
                       std::string(fields[1])});
  }
  return entries;
}

absl::StatusOr<std::unique_ptr<TokenStore>> TokenStore::Open(
    const std::string& path, absl::Duration recheck) {
  auto text = ReadFlagFile("token_file", path);
  if (!text.ok()) return text.status();
  auto entries = Parse(*text, path);
  if (!entries.ok()) return entries.status();
  std::unique_ptr<TokenStore> store(new TokenStore(path, recheck));
  absl::MutexLock lock(&store->mu_);
  store->entries_ = *std::move(entries);
  store->content_ = *std::move(text);
  store->next_check_ = absl::Now() + recheck;
  LogInfo(absl::StrCat("bearer tokens: ", store->entries_.size(),
                       " accepted (from ", path, ")"));
  return store;
}

void TokenStore::MaybeReload() {
  const absl::Time now = absl::Now();
  if (now < next_check_) return;
  next_check_ = now + recheck_;
  // The content decides, not the modification time: file times tick in
  // jiffies, and an edit within one would go unnoticed.
  auto text = ReadFlagFile("token_file", path_);
  if (text.ok() && *text == content_) return;
  auto entries = text.ok() ? Parse(*text, path_)
                           : absl::StatusOr<std::vector<Entry>>(text.status());
  if (!entries.ok()) {
    LogError(absl::StrCat("token file not reloaded, keeping the previous "
                          "tokens: ",
                          entries.status().message()));
    return;
  }
  entries_ = *std::move(entries);
  content_ = *std::move(text);
  LogInfo(absl::StrCat("bearer tokens reloaded: ", entries_.size(),
                       " accepted"));
}

absl::StatusOr<std::string> TokenStore::Authenticate(const std::string& token) {
  const std::string digest = Sha256Raw(token);
  absl::MutexLock lock(&mu_);
  MaybeReload();
  // Every entry is compared, each in constant time, so the time taken says
  // nothing about which entry (if any) matched or how much of it did.
  const Entry* match = nullptr;
  for (const Entry& entry : entries_) {
    const bool equal =
        CRYPTO_memcmp(entry.digest.data(), digest.data(), kDigestBytes) == 0;
    if (equal && match == nullptr) match = &entry;
  }
  if (match == nullptr) {
    return absl::UnauthenticatedError("unknown bearer token");
  }
  return match->identity;
}

}  // namespace candor::security
