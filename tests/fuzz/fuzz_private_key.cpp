// crypto::parse_private_key: `-key FILE` for entrust, the private_key field of
// a GCP service account. Throws crypto_error or returns a key; an encrypted
// key never prompts.

#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/openssl_error.hpp"
#include "crypto/pem.hpp"
#include "fuzz_check.hpp"

using namespace cbcs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ERR_clear_error();
  crypto::pkey_ptr key;
  try {
    key = crypto::parse_private_key(fuzz::as_text(data, size));
  } catch (const crypto::crypto_error&) {
    return 0;
  } catch (const std::exception& e) {
    fuzz::fail("parse_private_key threw something other than crypto_error", e.what());
  }
  fuzz::check(key != nullptr, "parse_private_key returned a null key");
  fuzz::check(ERR_peek_error() == 0, "parse_private_key left errors in OpenSSL's queue");
  (void)crypto::key_description(key.get());
  ERR_clear_error();
  return 0;
}
