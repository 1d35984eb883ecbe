#pragma once
// Keys of the EC2 instance's IAM role, from the instance metadata service
// (IMDSv2, as AWS documents it for "Retrieve security credentials from
// instance metadata"):
//
//   PUT /latest/api/token                               X-aws-ec2-metadata-token-ttl-seconds: 21600
//   GET /latest/meta-data/iam/security-credentials/     X-aws-ec2-metadata-token: T  -> role name
//   GET /latest/meta-data/iam/security-credentials/ROLE                            -> keys (JSON)
//
// With them no long-lived key is configured or sealed anywhere: the keys are
// temporary, live in memory only and are fetched again before they expire.
// A credential_source (credential_source.hpp): the backend's sessions share
// the keys through a fetched_value; the metadata token and the role name are
// kept between fetches.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/sigv4.hpp"
#include "protocol/ca/common/credential_source.hpp"

namespace cbcs::protocol::ca::acmpca {

using time_point = std::chrono::system_clock::time_point;

inline constexpr std::string_view default_imds_endpoint = "http://169.254.169.254";

// As the AWS SDKs do: new keys a quarter of an hour before the old ones
// expire (AWS has them ready at least five minutes before); a failed
// refresh leaves the old ones in use until a minute before they expire.
// Longer than any role session AWS hands out (at most 12 hours).
inline constexpr fetch_timing instance_role_timing{
    .refresh_before_expiry = std::chrono::minutes(15),
    .stop_before_expiry = std::chrono::minutes(1),
    .retry_failed_refresh = std::chrono::minutes(1),
    .longest_refresh = std::chrono::hours(12),
    .retired_secrets = 8};

// The fetch of the role's keys from the metadata service at `endpoint`
// (without a path). A 401 gets one fresh metadata token, a 404 for the keys
// one new role listing (the role changed), not a loop.
std::unique_ptr<credential_source<crypto::sigv4::credentials>> instance_role_keys(
    std::string endpoint);

// Time of an ISO 8601 UTC timestamp as the metadata service writes it
// ("2026-11-27T20:15:00Z", fractions of a second allowed), years 1970 to
// 2200; nullopt otherwise.
std::optional<time_point> parse_utc_timestamp(std::string_view text);

}  // namespace cbcs::protocol::ca::acmpca
