#pragma once
// The account's organizations, fetched once for a backend's order sessions
// (GET /organization) and read again every few minutes: account state shared
// like a credential (credential_source.hpp), with no secret of its own.

#include <chrono>
#include <memory>
#include <vector>

#include "protocol/ca/common/credential_source.hpp"
#include "protocol/ca/digicert/digicert_api.hpp"

namespace cbcs::protocol::ca::digicert {

using organization_list = std::vector<organization>;

// How long the organization list is kept.
inline constexpr std::chrono::minutes organization_list_life{10};
// Organizations change rarely: read again after five minutes, used for ten.
inline constexpr fetch_timing organization_list_timing{
    .refresh_before_expiry = std::chrono::minutes(5),
    .stop_before_expiry = std::chrono::seconds(0),
    .retry_failed_refresh = std::chrono::seconds(30)};

// base_url and api_key as the backend's settings have them.
std::unique_ptr<credential_source<organization_list>> organization_source(std::string base_url,
                                                                          std::string api_key);

}  // namespace cbcs::protocol::ca::digicert
