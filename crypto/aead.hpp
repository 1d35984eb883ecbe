#pragma once
// AES-256-GCM with a 96-bit nonce and a 128-bit tag.

#include <optional>

#include "crypto/bytes.hpp"

namespace cbcs::crypto {

inline constexpr std::size_t aead_key_size = 32;
inline constexpr std::size_t aead_nonce_size = 12;
inline constexpr std::size_t aead_tag_size = 16;

// Returns ciphertext followed by the tag.
bytes aead_seal(byte_view key, byte_view nonce, byte_view aad, byte_view plaintext);

// Returns the plaintext, or nullopt when the tag does not verify (wrong key,
// wrong AAD or altered bytes): the caller decides what that means.
std::optional<bytes> aead_open(byte_view key, byte_view nonce, byte_view aad, byte_view sealed);

}  // namespace cbcs::crypto
