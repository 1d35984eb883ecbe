#pragma once
// Compact JWS (RFC 7515) with RS256 (RSASSA-PKCS1-v1_5 over SHA-256, RFC
// 7518 §3.3), as Google's OAuth service-account flow and its self-signed
// tokens use them. Base64url without padding (RFC 7515 §2).

#include <optional>
#include <string>
#include <string_view>

#include "crypto/bytes.hpp"
#include "crypto/openssl_types.hpp"

namespace cbcs::crypto {

// header.claims.signature, both JSON texts given as they are to be signed.
// Throws crypto_error when key cannot sign (not RSA).
std::string sign_jwt_rs256(std::string_view header_json, std::string_view claims_json,
                           EVP_PKEY* key);

struct jwt_parts {
  std::string header_json;
  std::string claims_json;
  std::string signing_input;  // header.claims, as sent
  bytes signature;
};

// The three parts decoded; nullopt when it is not a compact JWS.
std::optional<jwt_parts> split_jwt(std::string_view token);

// True when signature is a valid RS256 signature of data by key (an RSA
// public or private key).
bool verify_rs256(EVP_PKEY* key, std::string_view data, byte_view signature);

}  // namespace cbcs::crypto
