// Bearer tokens for clients that cannot hold a certificate. The file holds
// only SHA-256 digests, so reading it does not reveal a token; a presented
// token is hashed and compared with every digest in constant time. Tokens
// are never logged.
#ifndef CANDOR_SERVER_SECURITY_TOKEN_STORE_H_
#define CANDOR_SERVER_SECURITY_TOKEN_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace candor::security {

class TokenStore {
 public:
  // Reads `path`: lines "<64 hex digits: sha256 of the token> <identity>",
  // blank lines and '#' comments ignored. InvalidArgument naming the line
  // for anything else. The file is read again at most every `recheck`, and
  // applied when its content changed.
  static absl::StatusOr<std::unique_ptr<TokenStore>> Open(
      const std::string& path, absl::Duration recheck = absl::Seconds(1));

  // The identity of `token`, or Unauthenticated ("unknown bearer token").
  absl::StatusOr<std::string> Authenticate(const std::string& token);

  // Parses the file's text (exposed for tests).
  struct Entry {
    std::string digest;  // 32 raw bytes
    std::string identity;
  };
  static absl::StatusOr<std::vector<Entry>> Parse(const std::string& text,
                                                  const std::string& path);

 private:
  TokenStore(std::string path, absl::Duration recheck)
      : path_(std::move(path)), recheck_(recheck) {}
  // Re-reads the file when it changed; a bad edit keeps the old tokens and
  // is logged.
  void MaybeReload() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const absl::Duration recheck_;
  absl::Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::string content_ ABSL_GUARDED_BY(mu_);
  absl::Time next_check_ ABSL_GUARDED_BY(mu_);
};

// Lowercase hex SHA-256 of `bytes` (what a token file line starts with).
std::string Sha256HexOf(const std::string& bytes);

}  // namespace candor::security

#endif  // CANDOR_SERVER_SECURITY_TOKEN_STORE_H_
