#pragma once
// Base64 with the standard alphabet and '=' padding (RFC 4648 §4), as AWS
// blobs and PEM bodies use it.

#include <optional>
#include <string>
#include <string_view>

#include "crypto/bytes.hpp"

namespace cbcs::crypto {

std::string base64_encode(byte_view data);

// Strict: the length must be a multiple of 4, padding only at the end, no
// whitespace, and the unused bits of the last group must be zero (so every
// byte string has exactly one accepted text). nullopt on anything else.
std::optional<bytes> base64_decode(std::string_view text);

// Base64url without padding (RFC 4648 §5), as JWTs and installation tokens
// use it. Strict: padding, '+' or '/' and non-zero trailing bits are refused.
std::string base64url_encode(byte_view data);
std::optional<bytes> base64url_decode(std::string_view text);

}  // namespace cbcs::crypto
