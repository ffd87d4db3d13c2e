#include "server/security/authz_policy.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/log.h"
#include "server/security/flag_file.h"

namespace candor::security {
namespace {

using Json = nlohmann::json;

absl::StatusOr<AuthzPolicy::Pattern> ParsePattern(const Json& value,
                                                  const std::string& where) {
  if (!value.is_string() || value.get<std::string>().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expected a non-empty string"));
  }
  const std::string text = value.get<std::string>();
  AuthzPolicy::Pattern p;
  if (text == "*") {
    p.kind = AuthzPolicy::Pattern::Kind::kAny;
  } else if (text.back() == '*') {
    p.kind = AuthzPolicy::Pattern::Kind::kPrefix;
    p.text = text.substr(0, text.size() - 1);
  } else if (text.front() == '*') {
    p.kind = AuthzPolicy::Pattern::Kind::kSuffix;
    p.text = text.substr(1);
  } else {
    p.text = text;
  }
  if (absl::StrContains(p.text, '*')) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": '", text, "': '*' only as the whole pattern, its first or "
        "its last character"));
  }
  return p;
}

absl::Status ParsePatterns(const Json& parent, const char* member,
                           const std::string& where, bool* present,
                           std::vector<AuthzPolicy::Pattern>* out) {
  *present = parent.contains(member);
  if (!*present) return absl::OkStatus();
  const Json& list = parent[member];
  if (!list.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".", member, ": expected an array"));
  }
  for (size_t i = 0; i < list.size(); ++i) {
    auto p = ParsePattern(list[i], absl::StrCat(where, ".", member, "[", i, "]"));
    if (!p.ok()) return p.status();
    out->push_back(*std::move(p));
  }
  return absl::OkStatus();
}

// InvalidArgument naming the first member of `object` not in `known`.
absl::Status OnlyMembers(const Json& object, const std::string& where,
                         std::initializer_list<const char*> known) {
  if (!object.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": expected an object"));
  }
  for (const auto& [key, value] : object.items()) {
    bool listed = false;
    for (const char* k : known) listed = listed || key == k;
    if (!listed) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unknown member '", key, "'"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AuthzPolicy::Rule>> ParseRules(const Json& policy,
                                                          const char* member) {
  std::vector<AuthzPolicy::Rule> rules;
  if (!policy.contains(member)) return rules;
  if (!policy[member].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(member, ": expected an array"));
  }
  for (size_t i = 0; i < policy[member].size(); ++i) {
    const Json& r = policy[member][i];
    const std::string at = absl::StrCat(member, "[", i, "]");
    absl::Status s = OnlyMembers(r, at, {"name", "source", "request"});
    if (!s.ok()) return s;
    if (!r.contains("name") || !r["name"].is_string() ||
        r["name"].get<std::string>().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ": every rule needs a non-empty \"name\""));
    }
    AuthzPolicy::Rule rule;
    rule.name = r["name"].get<std::string>();
    const std::string where = absl::StrCat(at, " '", rule.name, "'");
    if (r.contains("source")) {
      s = OnlyMembers(r["source"], where + ".source", {"principals"});
      if (!s.ok()) return s;
      absl::Status s = ParsePatterns(r["source"], "principals", where + ".source",
                                     &rule.has_principals, &rule.principals);
      if (!s.ok()) return s;
    }
    if (r.contains("request")) {
      s = OnlyMembers(r["request"], where + ".request", {"paths", "headers"});
      if (!s.ok()) return s;
      if (r["request"].contains("headers")) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ".request.headers: candor authorizes by identity and "
                   "method only; remove the headers matcher"));
      }
      absl::Status s = ParsePatterns(r["request"], "paths", where + ".request",
                                     &rule.has_paths, &rule.paths);
      if (!s.ok()) return s;
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}


}  // namespace

bool AuthzPolicy::Pattern::Matches(const std::string& value) const {
  switch (kind) {
    case Kind::kAny:
      return !value.empty();
    case Kind::kPrefix:
      return absl::StartsWith(value, text);
    case Kind::kSuffix:
      return absl::EndsWith(value, text);
    case Kind::kExact:
      return value == text;
  }
  return false;
}

bool AuthzPolicy::Rule::Matches(const std::string& identity,
                                const std::string& path) const {
  auto any_of = [](const std::vector<Pattern>& patterns, const std::string& v) {
    for (const Pattern& p : patterns) {
      if (p.Matches(v)) return true;
    }
    return false;
  };
  // A principal needs an authenticated identity, as in gRPC's engine.
  if (has_principals && (identity.empty() || !any_of(principals, identity))) {
    return false;
  }
  return !has_paths || any_of(paths, path);
}

absl::StatusOr<AuthzPolicy> AuthzPolicy::Parse(const std::string& json) {
  const Json policy = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (policy.is_discarded()) {
    return absl::InvalidArgumentError("authorization policy: not valid JSON");
  }
  absl::Status s = OnlyMembers(policy, "authorization policy",
                               {"name", "allow_rules", "deny_rules"});
  if (!s.ok()) return s;
  // As in gRPC's format: a name and allow_rules are required.
  if (!policy.contains("name") || !policy["name"].is_string() ||
      policy["name"].get<std::string>().empty()) {
    return absl::InvalidArgumentError(
        "authorization policy: \"name\" (a non-empty string) is required");
  }
  if (!policy.contains("allow_rules")) {
    return absl::InvalidArgumentError(
        "authorization policy: \"allow_rules\" is required");
  }
  AuthzPolicy parsed;
  parsed.name_ = policy["name"].get<std::string>();
  auto deny = ParseRules(policy, "deny_rules");
  if (!deny.ok()) return deny.status();
  auto allow = ParseRules(policy, "allow_rules");
  if (!allow.ok()) return allow.status();
  parsed.deny_ = *std::move(deny);
  parsed.allow_ = *std::move(allow);
  return parsed;
}

bool AuthzPolicy::Allows(const std::string& identity, const std::string& path,
                         std::string* why) const {
  for (const Rule& rule : deny_) {
    if (rule.Matches(identity, path)) {
      *why = absl::StrCat("deny rule '", rule.name, "' of policy '", name_,
                          "' matches");
      return false;
    }
  }
  for (const Rule& rule : allow_) {
    if (rule.Matches(identity, path)) return true;
  }
  *why = absl::StrCat("no allow rule of policy '", name_, "' grants it");
  return false;
}

absl::StatusOr<std::unique_ptr<AuthzPolicyFile>> AuthzPolicyFile::Open(
    const std::string& path, absl::Duration refresh) {
  auto text = ReadFlagFile("authz_policy", path);
  if (!text.ok()) return text.status();
  auto policy = AuthzPolicy::Parse(*text);
  if (!policy.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--authz_policy ", path, ": ", policy.status().message()));
  }
  std::unique_ptr<AuthzPolicyFile> file(new AuthzPolicyFile(path, refresh));
  absl::MutexLock lock(&file->mu_);
  file->policy_ = std::make_shared<const AuthzPolicy>(*std::move(policy));
  file->content_ = *std::move(text);
  file->next_check_ = absl::Now() + refresh;
  LogInfo(absl::StrCat("authorization policy '", file->policy_->name(),
                       "' from ", path));
  return file;
}

std::shared_ptr<const AuthzPolicy> AuthzPolicyFile::Current() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  if (now < next_check_) return policy_;
  next_check_ = now + refresh_;
  // The content decides, not the modification time: file times tick in
  // jiffies, and an edit within one would go unnoticed.
  auto text = ReadFlagFile("authz_policy", path_);
  if (!text.ok() || *text == content_) return policy_;
  auto policy = AuthzPolicy::Parse(*text);
  if (!policy.ok()) {
    LogError(absl::StrCat("authorization policy ", path_,
                          " not reloaded, the previous one stays: ",
                          policy.status().message()));
    return policy_;
  }
  content_ = *std::move(text);
  policy_ = std::make_shared<const AuthzPolicy>(*std::move(policy));
  LogInfo(absl::StrCat("authorization policy reloaded: '", policy_->name(),
                       "' from ", path_));
  return policy_;
}

}  // namespace candor::security
