#include "crypto/jwt.hpp"

#include <openssl/evp.h>

#include "crypto/base64.hpp"
#include "crypto/openssl_error.hpp"

namespace cbcs::crypto {

std::string sign_jwt_rs256(std::string_view header_json, std::string_view claims_json,
                           EVP_PKEY* key) {
  if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
    throw crypto_error("RS256 needs an RSA key");
  std::string input =
      base64url_encode(as_bytes(header_json)) + "." + base64url_encode(as_bytes(claims_json));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) throw crypto_error("out of memory");
  std::size_t len = 0;
  bytes sig;
  bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, as_bytes(input).data(), input.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, sig.data(), &len, as_bytes(input).data(), input.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) throw crypto_error("RS256 signing failed");
  return input + "." + base64url_encode(sig);
}

std::optional<jwt_parts> split_jwt(std::string_view token) {
  auto first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return std::nullopt;
  auto header = base64url_decode(token.substr(0, first));
  auto claims = base64url_decode(token.substr(first + 1, second - first - 1));
  auto sig = base64url_decode(token.substr(second + 1));
  if (!header || !claims || !sig) return std::nullopt;
  return jwt_parts{std::string(as_chars(*header)), std::string(as_chars(*claims)),
                   std::string(token.substr(0, second)), std::move(*sig)};
}

bool verify_rs256(EVP_PKEY* key, std::string_view data, byte_view signature) {
  if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return false;
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, signature.data(), signature.size(), as_bytes(data).data(),
                             data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

}  // namespace cbcs::crypto
