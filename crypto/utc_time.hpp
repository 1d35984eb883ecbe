#pragma once

// Calendar times in UTC, the same on Linux and Windows (no timegm, gmtime_r or
// strptime, which Windows lacks).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <openssl/types.h>

namespace cbcs::crypto {

using utc_time = std::chrono::system_clock::time_point;

// "YYYY-MM-DD[T ]HH:MM:SS", then an optional fraction and an optional zone
// (Z, +HH:MM, -HH:MM; none is UTC). Years 1970 to 2200, beyond which the
// clock's nanoseconds overflow; nullopt for anything else.
std::optional<utc_time> parse_utc_time(std::string_view text);

// "YYYY-MM-DDTHH:MM:SS" (whole seconds, no zone).
std::string format_utc_time(utc_time t);
// The same from seconds, for times past 2262 (a token's exp may say 9999),
// where the clock's nanoseconds end; not gmtime, which Windows ends in 3000.
std::string format_utc_time(std::chrono::sys_seconds t);

// A certificate's notBefore/notAfter, held to 1970..2200; throws crypto_error
// when it is malformed.
utc_time to_utc_time(const ASN1_TIME* t);

}  // namespace cbcs::crypto
