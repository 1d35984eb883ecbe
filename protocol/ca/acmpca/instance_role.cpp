#include "protocol/ca/acmpca/instance_role.hpp"

#include <algorithm>

#include <simdjson.h>

#include "crypto/per_thread.hpp"
#include "crypto/utc_time.hpp"
#include "protocol/ca/acmpca/acmpca_api.hpp"
#include "protocol/common/json_parser.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::acmpca {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view token_ttl_seconds = "21600";  // six hours, IMDSv2's maximum
constexpr auto token_lifetime = 6h;
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

using credentials = crypto::sigv4::credentials;

class instance_role_fetch final : public credential_source<credentials> {
 public:
  explicit instance_role_fetch(std::string endpoint) : endpoint_(std::move(endpoint)) {
    while (endpoint_.ends_with('/')) endpoint_.pop_back();
  }

  std::string what() const override { return "the instance role's keys"; }

  http_request start(time_point now) override {
    token_renewed_ = false;
    role_relisted_ = false;
    if (token_.empty() || now >= token_refresh_at_) return token_request();
    return credentials_request(role_name_.empty() ? stage::role_name : stage::keys);
  }

  answer_step answer(const http_response& r, time_point now) override;

  http_request again(time_point) override { return last_; }

  void redact(std::string& message) const override { protocol::redact(message, token_); }

 private:
  enum class stage { token, role_name, keys };
  http_request token_request();
  http_request credentials_request(stage s);
  answer_step on_keys(const http_response& r, time_point now);

  std::string endpoint_;  // without a trailing '/'
  std::string token_;     // the metadata session token, kept between fetches
  time_point token_refresh_at_{};
  std::string role_name_;
  // This fetch:
  stage stage_ = stage::token;
  http_request last_;
  bool token_renewed_ = false;  // a 401 gets one fresh token, not a loop
  bool role_relisted_ = false;  // a 404 for the keys gets one new listing
};

http_request instance_role_fetch::token_request() {
  stage_ = stage::token;
  last_ = {.method = "PUT",
           .url = endpoint_ + "/latest/api/token",
           .headers = {{"X-aws-ec2-metadata-token-ttl-seconds", std::string(token_ttl_seconds)}},
           .rate_class = "metadata",
           .side_call = true};
  return last_;
}

// The role listing (stage::role_name) or the role's keys (stage::keys).
http_request instance_role_fetch::credentials_request(stage s) {
  stage_ = s;
  last_ = {.method = "GET",
           .url = endpoint_ + std::string(credentials_path) +
                  (s == stage::keys ? role_name_ : std::string{}),
           .headers = {{"X-aws-ec2-metadata-token", token_}},
           .rate_class = "metadata",
           .side_call = true};
  return last_;
}

instance_role_fetch::answer_step instance_role_fetch::answer(const http_response& r,
                                                             time_point now) {
  // An expired metadata token: one fresh token, then the same step again.
  if (r.status == 401 && stage_ != stage::token && !token_renewed_) {
    token_renewed_ = true;
    token_.clear();
    return token_request();
  }
  switch (stage_) {
    case stage::token: {
      if (r.status != 200) return metadata_failure(r, "the token request");
      auto token = trim(r.body);
      if (!printable(token, 1024))
        return outcome::failed(error_class::internal,
                               "the instance metadata service sent an unreadable token");
      token_ = std::string(token);
      token_refresh_at_ = now + token_lifetime - 1min;
      return credentials_request(role_name_.empty() ? stage::role_name : stage::keys);
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
      role_name_ = std::string(name);
      return credentials_request(stage::keys);
    }
    case stage::keys:
      return on_keys(r, now);
  }
  return outcome::failed(error_class::internal, "instance metadata: unexpected state");
}

instance_role_fetch::answer_step instance_role_fetch::on_keys(const http_response& r,
                                                              time_point now) {
  const auto role = role_name_;
  if (r.status == 404) {
    // The instance's role changed, perhaps: list it once more.
    role_name_.clear();
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
  return fetched<credentials>{.value = {.access_key_id = std::string(id),
                                        .secret_access_key = std::string(secret),
                                        .session_token = std::string(token)},
                              .secrets = {std::string(secret), std::string(token)},
                              .expires = *expires};
}

}  // namespace

std::unique_ptr<credential_source<credentials>> instance_role_keys(std::string endpoint) {
  return std::make_unique<instance_role_fetch>(std::move(endpoint));
}

std::optional<time_point> parse_utc_timestamp(std::string_view text) {
  // The service writes "...T...Z": no other form is its.
  if (text.size() < 20 || text[10] != 'T' || (text.back() != 'Z' && text.back() != 'z'))
    return std::nullopt;
  return crypto::parse_utc_time(text);
}

}  // namespace cbcs::protocol::ca::acmpca
