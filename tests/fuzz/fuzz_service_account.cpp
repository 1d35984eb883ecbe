// protocol::ca::gcpcas::parse_service_account: the key file `backend add
// -type gcpcas -key FILE` reads. Throws std::runtime_error naming a field
// (never its value) or returns complete fields with an RSA key.

#include <stdexcept>
#include <string>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/pem.hpp"
#include "fuzz_check.hpp"
#include "protocol/ca/gcpcas/service_account.hpp"

using namespace cbcs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ERR_clear_error();
  protocol::ca::gcpcas::service_account account;
  try {
    account = protocol::ca::gcpcas::parse_service_account(fuzz::as_text(data, size));
  } catch (const std::runtime_error& e) {
    std::string_view what = e.what();
    // The messages are fixed texts about a field; a key or a value never shows.
    fuzz::check(what.size() < 120, "error message too long (does it carry a value?)", what);
    fuzz::check(what.find("-----") == std::string_view::npos, "error message carries PEM", what);
    return 0;
  } catch (const std::exception& e) {
    fuzz::fail("parse_service_account threw something other than std::runtime_error", e.what());
  }
  fuzz::check(!account.client_email.empty() && !account.private_key_id.empty(),
              "parse_service_account returned an empty field");
  fuzz::check(account.token_uri.starts_with("https://"), "token_uri is not https",
              account.token_uri);
  auto key = crypto::parse_private_key(account.private_key_pem);
  fuzz::check(EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA, "accepted a key that is not RSA");
  return 0;
}
