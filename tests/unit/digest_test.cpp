#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "crypto/digest.hpp"

namespace cbcs {
namespace {

std::string hmac_hex(const crypto::bytes& key, std::string_view data) {
  return crypto::to_hex(crypto::hmac_sha256(key, crypto::as_bytes(data)));
}

}  // namespace

TEST_SUITE("digest") {
  TEST_CASE("SHA-256 and HMAC-SHA-256 give the published answers (FIPS 180-4, RFC 4231)") {
    CHECK(crypto::to_hex(crypto::sha256(crypto::as_bytes("abc"))) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hmac_hex(crypto::bytes(20, 0x0b), "Hi There") ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK(hmac_hex(crypto::bytes{'J', 'e', 'f', 'e'}, "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // A key longer than the block is hashed first.
    CHECK(hmac_hex(crypto::bytes(131, 0xaa),
                   "Test Using Larger Than Block-Size Key - Hash Key First") ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  }

  TEST_CASE("HMAC-SHA-256 agrees with OpenSSL's HMAC() around the block size") {
    for (std::size_t key_len : {0, 1, 32, 63, 64, 65, 128, 200}) {
      for (std::size_t data_len : {0, 1, 55, 56, 64, 1000}) {
        crypto::bytes key(key_len), data(data_len);
        for (std::size_t i = 0; i < key_len; ++i) key[i] = static_cast<std::uint8_t>(i * 7 + 1);
        for (std::size_t i = 0; i < data_len; ++i) data[i] = static_cast<std::uint8_t>(i * 13 + 5);
        crypto::sha256_digest want{};
        unsigned int len = 0;
        static const std::uint8_t none = 0;  // OpenSSL refuses a null key, even an empty one
        REQUIRE(HMAC(EVP_sha256(), key.empty() ? &none : key.data(), static_cast<int>(key.size()),
                     data.data(), data.size(), want.data(), &len) != nullptr);
        CAPTURE(key_len);
        CAPTURE(data_len);
        CHECK(crypto::hmac_sha256(key, data) == want);
      }
    }
  }
}

}  // namespace cbcs
