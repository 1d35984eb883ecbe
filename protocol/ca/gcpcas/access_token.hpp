#pragma once
// An OAuth 2.0 access token for a service account (Google's "Using OAuth 2.0
// for server to server applications"): an RS256 JWT signed with the key,
//   header {"alg":"RS256","typ":"JWT","kid":private_key_id}
//   claims {iss: client_email, scope: cloud-platform, aud: token_uri, iat, exp: iat+3600}
// POSTed as grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT
// to token_uri, answered {access_token, expires_in, token_type:"Bearer"} or
// {error:"invalid_grant", error_description}. Pure: requests and answers; the
// backend's sessions share the token through service_account_token.hpp.

#include <chrono>
#include <string>
#include <variant>

#include "crypto/openssl_types.hpp"
#include "protocol/ca/driver.hpp"
#include "protocol/ca/gcpcas/service_account.hpp"

namespace cbcs::protocol::ca::gcpcas {

using time_point = std::chrono::system_clock::time_point;

inline constexpr std::string_view cloud_platform_scope =
    "https://www.googleapis.com/auth/cloud-platform";
// iat this far in the past: a connector clock a little ahead of Google's
// must not make the JWT "not yet valid" (invalid_grant).
inline constexpr std::chrono::seconds clock_skew_allowance{60};

// The signed assertion at `now` (iat = now - clock_skew_allowance).
std::string token_assertion(const service_account& account, EVP_PKEY* key, time_point now);

// The token request (a side call: the token service is not the CA).
http_request token_request(const service_account& account, EVP_PKEY* key, time_point now);

struct access_token {
  std::string token;
  std::chrono::seconds expires_in{0};
};

// The token from a token answer, or the failed outcome: invalid_grant and
// other refusals are auth failures naming the key id and the client email
// (never the key), not retryable; 429/5xx are retryable.
std::variant<access_token, outcome> read_token_answer(const http_response& answer,
                                                      const service_account& account,
                                                      time_point now);

}  // namespace cbcs::protocol::ca::gcpcas
