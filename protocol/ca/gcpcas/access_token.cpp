#include "protocol/ca/gcpcas/access_token.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include <simdjson.h>

#include "crypto/jwt.hpp"
#include "crypto/per_thread.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/common/json_fields.hpp"
#include "protocol/common/json_parser.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::gcpcas {
namespace {

std::int64_t seconds_of(time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string token_assertion(const service_account& account, EVP_PKEY* key, time_point now) {
  auto iat = seconds_of(now - clock_skew_allowance);
  json_writer header(false), claims(false);
  header.begin_object()
      .member("alg", "RS256")
      .member("typ", "JWT")
      .member("kid", account.private_key_id)
      .end_object();
  claims.begin_object()
      .member("iss", account.client_email)
      .member("scope", cloud_platform_scope)
      .member("aud", account.token_uri)
      .member("iat", iat)
      .member("exp", iat + 3600)
      .end_object();
  return crypto::sign_jwt_rs256(header.str(), claims.str(), key);
}

http_request token_request(const service_account& account, EVP_PKEY* key, time_point now) {
  http_request r;
  r.method = "POST";
  r.url = account.token_uri;
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  r.body = "grant_type=" + url_encode("urn:ietf:params:oauth:grant-type:jwt-bearer") +
           "&assertion=" + url_encode(token_assertion(account, key, now));
  r.rate_class = "token";
  r.side_call = true;
  return r;
}

std::variant<access_token, outcome> read_token_answer(const http_response& answer,
                                                      const service_account& account,
                                                      time_point now) {
  CBCS_PER_THREAD(simdjson::dom::parser, parser);
  simdjson::dom::element doc;
  // Only a parsed document may be read (a failed parse leaves doc empty).
  std::optional<json_fields> fields;
  if (!reused(parser).parse(answer.body.data(), answer.body.size()).get(doc) && doc.is_object())
    fields.emplace(doc, "token answer");
  auto text = [&](std::string_view key) { return fields ? fields->maybe_str(key) : std::nullopt; };
  if (is_success(answer.status)) {
    auto token = text("access_token");
    auto expires = fields ? fields->maybe_number("expires_in") : std::nullopt;
    if (!token || token->empty() || !expires || *expires <= 0)
      return outcome::failed(error_class::internal,
                             "the token service's answer has no access_token and expires_in");
    // At most a day: a huge expires_in must not keep a token for ever; at
    // least a minute: one the cache would not use would be fetched again and again.
    auto seconds = static_cast<std::int64_t>(std::clamp(*expires, 60.0, 86400.0));
    return access_token{*token, std::chrono::seconds(seconds)};
  }
  // The code goes into backend_code: an identifier, or none.
  auto code = text("error").value_or("");
  if (code.size() > 64 || !std::all_of(code.begin(), code.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.';
      }))
    code.clear();
  auto description = text("error_description").value_or("");
  auto who = "service account " + one_line(account.client_email, 200) + " (key " +
             one_line(account.private_key_id, 64) + ")";
  if (answer.status == 429 || answer.status >= 500)
    return http_failure(answer, "the token service is busy or unavailable for " + who, code, {},
                        now);
  std::string message = "the token service refused " + who;
  if (!code.empty()) message += ": " + one_line(code, 64);
  if (!description.empty()) message += " (" + one_line(description, 300) + ")";
  if (code == "invalid_grant")
    message +=
        "; check that the key is not deleted or disabled and that this machine's clock "
        "is right";
  return http_failure_as(error_class::auth, answer, message, code.empty() ? "token" : code, now);
}

}  // namespace cbcs::protocol::ca::gcpcas
