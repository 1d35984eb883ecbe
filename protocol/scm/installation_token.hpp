#pragma once
// The installation token: the single-use bearer credential an administrator
// pastes into `cbcs register -token T`. It says where SCM is and which CA to
// trust for it, so that the token alone is enough to register. Format and
// rules: protocol/scm/PROTOCOL.md, "Installation token".
//
//   cbcs1.<base64url(JSON payload)>.<base64url(first 6 bytes of SHA-256 of
//   "cbcs1." + payload text)>
//
// The trailing check catches a token damaged in copying; it is not a
// signature (anyone holding the token can make a new one). Errors never
// repeat the token or its secret.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "crypto/base64.hpp"
#include "crypto/bytes.hpp"

namespace cbcs::protocol::scm {

inline constexpr std::string_view token_prefix = "cbcs1.";
// Tokens longer than this are refused before decoding.
inline constexpr std::size_t max_token_chars = 4096;
// The local expiry check allows this much clock difference: SCM decides.
inline constexpr std::chrono::seconds token_clock_tolerance{300};

class token_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct installation_token {
  std::string scm;        // "https://host[:port]": no path, query or user info
  std::string ca_sha256;  // lower-case hex SHA-256 of the SCM CA certificate's DER;
                          // empty: trust the system's roots instead of a pin
  std::string secret;     // base64url, 16 to 512 characters; never log it
  std::chrono::sys_seconds expires_at{};

  // For messages and logs: SCM, pin prefix and expiry, never the secret.
  std::string describe() const;
  // The full registration URL: scm + registration path.
  std::string registration_url() const;
};

// Parses and validates the text (surrounding white space is ignored). Throws
// token_error with a one-line reason. Does not look at the clock.
installation_token parse_installation_token(std::string_view text);

// Throws token_error when the token expired more than token_clock_tolerance
// before now.
void check_not_expired(const installation_token& token, std::chrono::system_clock::time_point now);

// What `cbcs register` and the installer's token page accept: the text
// parses (parse_installation_token) and has not expired at now
// (check_not_expired). Throws token_error with the one-line reason.
installation_token check_installation_token(std::string_view text,
                                            std::chrono::system_clock::time_point now);

// The text form (for SCM and the simulator). Throws token_error when a field
// would not parse back.
std::string format_installation_token(const installation_token& token);

// 32 random bytes, base64url: a fresh secret for format_installation_token.
std::string new_token_secret();

// Lower-case hex SHA-256 of a certificate's DER: the form of ca_sha256.
std::string certificate_fingerprint(crypto::byte_view der);

// Base64url without padding, strict (crypto/base64.hpp).
using crypto::base64url_decode;
using crypto::base64url_encode;

// An https:// or wss:// URL split for dialing. host has no brackets (for SNI
// and verification); target is the path and query, "/" when empty.
struct endpoint {
  std::string scheme;  // "https" or "wss"
  std::string host;
  std::uint16_t port = 443;
  std::string target = "/";
};

// nullopt for anything else: other schemes, user info, a fragment, a bad
// port, an empty host or characters a host name cannot hold.
std::optional<endpoint> parse_endpoint(std::string_view url);

}  // namespace cbcs::protocol::scm
