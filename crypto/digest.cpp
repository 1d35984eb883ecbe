#include "crypto/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto/openssl_error.hpp"

namespace cbcs::crypto {

sha256_digest sha256(byte_view data) {
  sha256_digest out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1)
    throw crypto_error("SHA-256 failed");
  return out;
}

sha256_digest hmac_sha256(byte_view key, byte_view data) {
  sha256_digest out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
           out.data(), &len) == nullptr)
    throw crypto_error("HMAC-SHA-256 failed");
  return out;
}

std::string to_hex(byte_view data) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (auto b : data) {
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

bool equal_constant_time(byte_view a, byte_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace cbcs::crypto
