#include "crypto/aead.hpp"

#include <stdexcept>

#include "crypto/openssl_error.hpp"
#include "crypto/openssl_types.hpp"

namespace cbcs::crypto {
namespace {

cipher_ctx_ptr make_ctx(byte_view key, byte_view nonce, bool encrypt) {
  if (key.size() != aead_key_size || nonce.size() != aead_nonce_size)
    throw std::invalid_argument("AES-256-GCM needs a 32-byte key and a 12-byte nonce");
  cipher_ctx_ptr ctx{EVP_CIPHER_CTX_new()};
  if (!ctx) throw crypto_error("cannot allocate cipher context");
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data(),
                        encrypt ? 1 : 0) != 1)
    throw crypto_error("AES-256-GCM init failed");
  return ctx;
}

}  // namespace

bytes aead_seal(byte_view key, byte_view nonce, byte_view aad, byte_view plaintext) {
  auto ctx = make_ctx(key, nonce, true);
  int len = 0;
  if (!aad.empty() &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1)
    throw crypto_error("AES-256-GCM AAD failed");
  bytes out(plaintext.size() + aead_tag_size);
  if (EVP_EncryptUpdate(ctx.get(), out.data(), &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1)
    throw crypto_error("AES-256-GCM encrypt failed");
  int tail = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &tail) != 1)
    throw crypto_error("AES-256-GCM final failed");
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, aead_tag_size,
                          out.data() + plaintext.size()) != 1)
    throw crypto_error("AES-256-GCM tag failed");
  return out;
}

std::optional<bytes> aead_open(byte_view key, byte_view nonce, byte_view aad, byte_view sealed) {
  if (sealed.size() < aead_tag_size) return std::nullopt;
  auto ctx = make_ctx(key, nonce, false);
  auto body = sealed.first(sealed.size() - aead_tag_size);
  auto tag = sealed.last(aead_tag_size);
  int len = 0;
  if (!aad.empty() &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1)
    throw crypto_error("AES-256-GCM AAD failed");
  bytes out(body.size());
  if (EVP_DecryptUpdate(ctx.get(), out.data(), &len, body.data(), static_cast<int>(body.size())) !=
      1)
    throw crypto_error("AES-256-GCM decrypt failed");
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, aead_tag_size,
                          const_cast<std::uint8_t*>(tag.data())) != 1)
    throw crypto_error("AES-256-GCM set tag failed");
  int tail = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &tail) != 1) {
    drain_openssl_errors();  // an authentication failure is an answer, not an error
    return std::nullopt;
  }
  return out;
}

}  // namespace cbcs::crypto
