#pragma once

#include <array>
#include <string>

#include "crypto/bytes.hpp"

namespace cbcs::crypto {

using sha256_digest = std::array<std::uint8_t, 32>;

sha256_digest sha256(byte_view data);
sha256_digest hmac_sha256(byte_view key, byte_view data);

// SHA-1, for name-based UUIDs (RFC 9562 version 5) only: never for security.
std::array<std::uint8_t, 20> sha1(byte_view data);

// Lower-case hex, as SigV4 and fingerprints want it.
std::string to_hex(byte_view data);

// Constant-time comparison for MACs and key checks.
bool equal_constant_time(byte_view a, byte_view b);

}  // namespace cbcs::crypto
