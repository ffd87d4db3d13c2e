#include "server/router/shard_dns.h"

#include <netdb.h>
#include <sys/socket.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/log.h"
#include "server/router/placement.h"

namespace candor::router {
namespace {

// 0: resolves; 1: no such name; else the getaddrinfo error.
int Lookup(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
  if (result != nullptr) freeaddrinfo(result);
  if (rc == 0) return 0;
  if (rc == EAI_NONAME || rc == EAI_NODATA) return 1;
  return rc;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ResolveShardNames(
    const std::string& name_port) {
  const size_t colon = name_port.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(name_port.substr(colon + 1), &port) || port <= 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shards_dns: '", name_port, "' is not NAME:PORT"));
  }
  const std::string name = name_port.substr(0, colon);
  const size_t dot = name.find('.');
  const std::string first_label = name.substr(0, dot);
  const std::string rest = dot == std::string::npos ? "" : name.substr(dot);
  std::vector<std::string> out;
  for (int i = 0; i < kMaxShards; ++i) {
    const std::string host =
        absl::StrCat(first_label, "-", i, ".", first_label, rest);
    const int rc = Lookup(host);
    if (rc == 1) break;
    if (rc != 0) {
      return absl::UnavailableError(
          absl::StrCat("resolving ", host, ": ", gai_strerror(rc)));
    }
    out.push_back(absl::StrCat(host, ":", port));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> WaitForShardNames(
    const std::string& name_port, int expected, absl::Duration interval,
    absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  std::vector<std::string> previous;
  while (true) {
    auto names = ResolveShardNames(name_port);
    if (!names.ok() && absl::IsInvalidArgument(names.status())) {
      return names.status();
    }
    if (names.ok()) {
      if (expected > 0 && static_cast<int>(names->size()) == expected) {
        return names;
      }
      if (expected == 0 && !names->empty() && *names == previous) return names;
      LogInfo(absl::StrCat(
          "shards from ", name_port, ": ", names->size(), " resolve",
          expected > 0 ? absl::StrCat(", waiting for ", expected)
                       : ", waiting for the count to settle"));
      previous = *std::move(names);
    } else {
      LogWarning(std::string(names.status().message()));
    }
    if (absl::Now() + interval > give_up) {
      return absl::DeadlineExceededError(
          absl::StrCat("the shards of ", name_port, " did not settle within ",
                       absl::FormatDuration(timeout)));
    }
    absl::SleepFor(interval);
  }
}

}  // namespace candor::router
