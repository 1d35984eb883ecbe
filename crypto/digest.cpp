#include "crypto/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <initializer_list>

#include "crypto/openssl_error.hpp"
#include "crypto/openssl_types.hpp"
#include "crypto/per_thread.hpp"

namespace cbcs::crypto {
namespace {

// OpenSSL 3.0 looks a digest up by name (a lock, a hash table) on every call
// made with EVP_sha256(), and HMAC() builds a MAC context each time: SigV4
// signs with seven of them per request. Fetched once, a context per thread.
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);  // kept for the process
  if (!md) throw crypto_error("SHA-256 is not available");
  return md;
}

EVP_MD_CTX* thread_context() {
  CBCS_PER_THREAD(md_ctx_ptr, ctx);
  if (!ctx) ctx.reset(EVP_MD_CTX_new());
  if (!ctx) throw crypto_error("out of memory");
  return ctx.get();
}

void sha256_into(std::initializer_list<byte_view> parts, std::uint8_t* out) {
  auto* ctx = thread_context();
  unsigned int len = 0;
  bool ok = EVP_DigestInit_ex(ctx, sha256_md(), nullptr) == 1;
  for (auto part : parts) ok = ok && EVP_DigestUpdate(ctx, part.data(), part.size()) == 1;
  if (!ok || EVP_DigestFinal_ex(ctx, out, &len) != 1) throw crypto_error("SHA-256 failed");
}

}  // namespace

sha256_digest sha256(byte_view data) {
  sha256_digest out{};
  sha256_into({data}, out.data());
  return out;
}

// RFC 2104 over SHA-256's 64-byte block.
sha256_digest hmac_sha256(byte_view key, byte_view data) {
  constexpr std::size_t block = 64;
  std::array<std::uint8_t, block> k{}, inner_pad{}, outer_pad{};
  if (key.size() > block)
    sha256_into({key}, k.data());
  else
    std::copy(key.begin(), key.end(), k.begin());
  for (std::size_t i = 0; i < block; ++i) {
    inner_pad[i] = k[i] ^ 0x36;
    outer_pad[i] = k[i] ^ 0x5c;
  }
  sha256_digest inner{}, out{};
  sha256_into({inner_pad, data}, inner.data());
  sha256_into({outer_pad, inner}, out.data());
  // The pads are the key in other clothes.
  OPENSSL_cleanse(k.data(), k.size());
  OPENSSL_cleanse(inner_pad.data(), inner_pad.size());
  OPENSSL_cleanse(outer_pad.data(), outer_pad.size());
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

std::array<std::uint8_t, 20> sha1(byte_view data) {
  std::array<std::uint8_t, 20> out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha1(), nullptr) != 1 || len != 20)
    throw crypto_error("SHA-1 failed");
  return out;
}

}  // namespace cbcs::crypto
