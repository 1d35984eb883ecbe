#include <doctest/doctest.h>

#include "crypto/aead.hpp"
#include "crypto/digest.hpp"

using namespace cbcs::crypto;

TEST_SUITE("aead") {
  // McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13 and 14.
  TEST_CASE("AES-256-GCM matches the published test vectors") {
    bytes key(32, 0), nonce(12, 0);
    auto empty = aead_seal(key, nonce, {}, {});
    CHECK(to_hex(empty) == "530f8afbc74536b9a963b4f1c4cb738b");
    bytes zeros(16, 0);
    auto sealed = aead_seal(key, nonce, {}, zeros);
    CHECK(to_hex(sealed) ==
          "cea7403d4d606b6e074ec5d3baf39d18"
          "d0d1c8a799996bf0265b98b5d48ab919");
  }

  TEST_CASE("open returns the plaintext and refuses any change") {
    bytes key(32, 7), nonce(12, 9);
    auto sealed = aead_seal(key, nonce, as_bytes("name"), as_bytes("secret value"));
    auto plain = aead_open(key, nonce, as_bytes("name"), sealed);
    REQUIRE(plain);
    CHECK(std::string(plain->begin(), plain->end()) == "secret value");
    CHECK_FALSE(aead_open(key, nonce, as_bytes("other"), sealed));
    bytes wrong_key(32, 8);
    CHECK_FALSE(aead_open(wrong_key, nonce, as_bytes("name"), sealed));
    for (std::size_t i = 0; i < sealed.size(); ++i) {
      auto altered = sealed;
      altered[i] ^= 0x01;
      CHECK_FALSE(aead_open(key, nonce, as_bytes("name"), altered));
    }
    CHECK_FALSE(aead_open(key, nonce, as_bytes("name"), bytes(5, 0)));
  }
}
