#pragma once
// Retry-After (RFC 9110 §10.2.3): delta-seconds or an HTTP-date (IMF-fixdate,
// and the obsolete RFC 850 and asctime forms a recipient must accept). One
// parser for the drivers and the backend actor.

#include <chrono>
#include <optional>
#include <string_view>

namespace cbcs::protocol::ca {

// A longer wait would stall a job for hours; a huge value must not overflow.
inline constexpr std::chrono::seconds max_retry_after{3600};

// How long to wait from `now`, at most max_retry_after; nullopt when absent
// or unreadable. A date in the past is a wait of zero.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

// An HTTP-date in any of its three forms; nullopt otherwise.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

}  // namespace cbcs::protocol::ca
