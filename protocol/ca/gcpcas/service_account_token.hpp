#pragma once
// The service account's access token as a backend's sessions share it
// (credential_source.hpp): one token request (access_token.hpp) for every
// job, refreshed ahead of expiry, fetched once more after a 401, redacted
// from every message.

#include <chrono>
#include <memory>
#include <string>

#include "crypto/openssl_types.hpp"
#include "protocol/ca/common/credential_source.hpp"
#include "protocol/ca/gcpcas/service_account.hpp"

namespace cbcs::protocol::ca::gcpcas {

// After invalid_grant, jobs fail at once for this long instead of asking again.
inline constexpr std::chrono::seconds refusal_memory{60};

std::unique_ptr<credential_source<std::string>> service_account_token(service_account account,
                                                                      crypto::pkey_ptr key);

}  // namespace cbcs::protocol::ca::gcpcas
