#include "protocol/ca/acmpca/instance_role.hpp"

#include <algorithm>

#include <simdjson.h>

#include "crypto/per_thread.hpp"
#include "crypto/utc_time.hpp"
#include "protocol/ca/acmpca/acmpca_driver.hpp"
#include "protocol/common/json_parser.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::acmpca {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view token_ttl_seconds = "21600";  // six hours, IMDSv2's maximum
constexpr auto token_lifetime = 6h;
// As the AWS SDKs do: new keys a quarter of an hour before the old ones
// expire (AWS has them ready at least five minutes before); a failed
// refresh leaves the old ones in use until a minute before they expire.
constexpr auto refresh_before_expiry = 15min;
constexpr auto stop_before_expiry = 1min;
constexpr auto retry_failed_refresh = 1min;
// Longer than any role session AWS hands out (at most 12 hours).
constexpr auto longest_refresh = 12h;
constexpr std::size_t retired_secrets = 8;
constexpr std::string_view credentials_path = "/latest/meta-data/iam/security-credentials/";

bool printable(std::string_view v, std::size_t max) {
  return !v.empty() && v.size() <= max &&
         std::all_of(v.begin(), v.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

// IAM role names: 1 to 64 of letters, digits and +=,.@_-
bool role_name(std::string_view v) {
  return !v.empty() && v.size() <= 64 && std::all_of(v.begin(), v.end(), [](unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("+=,.@_-").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  return v;
}

outcome refused(std::string message) {
  return outcome::failed(error_class::auth, std::move(message));
}

// A metadata answer other than 200 to `what`. Busy is worth another try;
// anything else is how this machine is set up, which a retry will not change.
outcome metadata_failure(const http_response& r, std::string_view what) {
  auto status = std::to_string(r.status);
  if (r.status == 429 || r.status >= 500) {
    auto o = outcome::failed(
        r.status == 429 ? error_class::throttled : error_class::unavailable,
        "the instance metadata service is busy (HTTP " + status + " to " + std::string(what) + ")");
    o.retryable = true;
    return o;
  }
  if (r.status == 403)
    return refused("the instance metadata service refused " + std::string(what) +
                   " (HTTP 403): is instance metadata turned off for this instance?");
  return refused("the instance metadata service answered HTTP " + status + " to " +
                 std::string(what));
}

}  // namespace

instance_role::instance_role(std::string endpoint)
    : endpoint_(std::move(endpoint)),
      keys_(fetch_timing{.refresh_before_expiry = refresh_before_expiry,
                              .stop_before_expiry = stop_before_expiry,
                              .retry_failed_refresh = retry_failed_refresh,
                              .longest_refresh = longest_refresh,
                              .retired_secrets = retired_secrets}) {
  while (endpoint_.ends_with('/')) endpoint_.pop_back();
}

const crypto::sigv4::credentials* instance_role::keys(time_point now) const {
  return keys_.get(now);
}

bool instance_role::usable(time_point now) const { return keys_.usable(now); }

void instance_role::postpone_refresh(time_point now) { keys_.postpone_refresh(now); }

void instance_role::invalidate(std::string_view access_key_id) {
  if (auto* held = keys_.held(); held && held->access_key_id == access_key_id) keys_.retire();
}

void instance_role::store(crypto::sigv4::credentials keys, time_point expires, time_point now) {
  std::vector<std::string> secrets{keys.secret_access_key};
  if (keys.session_token) secrets.push_back(*keys.session_token);
  keys_.store(std::move(keys), std::move(secrets), expires, now);
}

void instance_role::redact(std::string& message) const {
  keys_.redact(message);
  protocol::redact(message, token_);
}

http_request role_fetch::start(time_point now) {
  if (role_.token_.empty() || now >= role_.token_refresh_at_) return token_request();
  return credentials_request(role_.role_name_.empty() ? stage::role_name : stage::keys);
}

http_request role_fetch::token_request() {
  stage_ = stage::token;
  last_ = {.method = "PUT",
           .url = role_.endpoint_ + "/latest/api/token",
           .headers = {{"X-aws-ec2-metadata-token-ttl-seconds", std::string(token_ttl_seconds)}},
           .rate_class = "metadata",
           .side_call = true};
  return last_;
}

// The role listing (stage::role_name) or the role's keys (stage::keys).
http_request role_fetch::credentials_request(stage s) {
  stage_ = s;
  last_ = {.method = "GET",
           .url = role_.endpoint_ + std::string(credentials_path) +
                  (s == stage::keys ? role_.role_name_ : std::string{}),
           .headers = {{"X-aws-ec2-metadata-token", role_.token_}},
           .rate_class = "metadata",
           .side_call = true};
  return last_;
}

std::variant<http_request, outcome, std::monostate> role_fetch::on_answer(const http_response& r,
                                                                          time_point now) {
  // An expired metadata token: one fresh token, then the same step again.
  if (r.status == 401 && stage_ != stage::token && !token_renewed_) {
    token_renewed_ = true;
    role_.token_.clear();
    return token_request();
  }
  switch (stage_) {
    case stage::token: {
      if (r.status != 200) return metadata_failure(r, "the token request");
      auto token = trim(r.body);
      if (!printable(token, 1024))
        return outcome::failed(error_class::internal,
                               "the instance metadata service sent an unreadable token");
      role_.token_ = std::string(token);
      role_.token_refresh_at_ = now + token_lifetime - 1min;
      return credentials_request(role_.role_name_.empty() ? stage::role_name : stage::keys);
    }
    case stage::role_name: {
      if (r.status == 404)
        return refused("no IAM role is attached to this instance (instance metadata lists none)");
      if (r.status != 200) return metadata_failure(r, "the role request");
      auto body = std::string_view(r.body);
      auto name = trim(body.substr(0, body.find('\n')));
      if (name.empty())
        return refused("no IAM role is attached to this instance (instance metadata lists none)");
      if (!role_name(name))
        return outcome::failed(error_class::internal,
                               "the instance metadata service sent an unreadable role name");
      role_.role_name_ = std::string(name);
      return credentials_request(stage::keys);
    }
    case stage::keys:
      return on_keys(r, now);
  }
  return outcome::failed(error_class::internal, "instance metadata: unexpected state");
}

std::variant<http_request, outcome, std::monostate> role_fetch::on_keys(const http_response& r,
                                                                        time_point now) {
  const auto role = role_.role_name_;
  if (r.status == 404) {
    // The instance's role changed, perhaps: list it once more.
    role_.role_name_.clear();
    if (!role_relisted_) {
      role_relisted_ = true;
      return credentials_request(stage::role_name);
    }
    return refused("the IAM role " + role + " has no keys in instance metadata (was it detached?)");
  }
  if (r.status != 200) return metadata_failure(r, "the keys request of role " + role);
  CBCS_PER_THREAD(simdjson::dom::parser, parser);
  simdjson::dom::element doc;
  auto unreadable = [&](std::string_view what) {
    return outcome::failed(error_class::internal, "the instance metadata keys of role " + role +
                                                      " are unreadable (" + std::string(what) +
                                                      ")");
  };
  if (reused(parser).parse(r.body.data(), r.body.size()).get(doc) || !doc.is_object())
    return unreadable("not a JSON object");
  auto field = [&](std::string_view key) {
    std::string_view v;
    return doc[key].get_string().get(v) ? std::string_view{} : v;
  };
  auto code = field("Code");
  if (code != "Success") {
    // The code names why (e.g. an instance profile without permission to
    // assume its role); shown only when it is a plain identifier.
    bool plain = !code.empty() && code.size() <= 64 &&
                 std::all_of(code.begin(), code.end(),
                             [](unsigned char c) { return std::isalnum(c) || c == '_'; });
    return refused("instance metadata has no keys for role " + role + " (Code " +
                   (plain ? std::string(code) : std::string("unreadable")) + ")");
  }
  auto id = field("AccessKeyId");
  auto secret = field("SecretAccessKey");
  auto token = field("Token");
  auto expires = parse_utc_timestamp(field("Expiration"));
  if (!is_access_key_id(id)) return unreadable("AccessKeyId");
  if (!printable(secret, 128)) return unreadable("SecretAccessKey");
  if (!printable(token, 16384)) return unreadable("Token");
  if (!expires) return unreadable("Expiration");
  if (*expires <= now)
    return refused("the instance metadata keys of role " + role +
                   " have expired already: is this machine's clock right?");
  role_.store({.access_key_id = std::string(id),
               .secret_access_key = std::string(secret),
               .session_token = std::string(token)},
              *expires, now);
  return std::monostate{};
}

std::optional<time_point> parse_utc_timestamp(std::string_view text) {
  // The service writes "...T...Z": no other form is its.
  if (text.size() < 20 || text[10] != 'T' || (text.back() != 'Z' && text.back() != 'z'))
    return std::nullopt;
  return crypto::parse_utc_time(text);
}

}  // namespace cbcs::protocol::ca::acmpca
