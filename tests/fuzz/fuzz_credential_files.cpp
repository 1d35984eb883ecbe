// crypto/credential_files: the files `backend add` is given for -cert, -key
// and -pkcs12 (PEM, DER, PKCS#7, PKCS#8 plain or encrypted, PKCS#1, SEC1,
// PKCS#12). The first byte picks the reader: 0 certificates, 1 a key without
// a password, 2 a key with the password "pw", 3 PKCS#12 with "pw", 4 PKCS#12
// without. Throws crypto_error or returns what the other readers take.

#include <openssl/err.h>

#include "crypto/credential_files.hpp"
#include "crypto/pem.hpp"
#include "fuzz_check.hpp"

using namespace cbcs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  ERR_clear_error();
  auto mode = data[0] % 5;
  auto text = fuzz::as_text(data + 1, size - 1);
  try {
    switch (mode) {
      case 0:
        fuzz::check(!crypto::parse_certificates(crypto::certificates_as_pem(text)).empty(),
                    "certificates_as_pem gave no certificate");
        break;
      case 1:
      case 2: {
        auto pw = mode == 2 ? std::optional<std::string>("pw") : std::nullopt;
        fuzz::check(crypto::parse_private_key(crypto::private_key_as_pem(text, pw)) != nullptr,
                    "private_key_as_pem gave no key");
        break;
      }
      default: {
        auto p12 = crypto::read_pkcs12(text, mode == 3 ? "pw" : "");
        fuzz::check(!crypto::parse_certificates(p12.certificates_pem).empty(),
                    "read_pkcs12 gave no certificate");
        fuzz::check(crypto::parse_private_key(p12.key_pem) != nullptr, "read_pkcs12 gave no key");
        (void)crypto::key_certificate_first(p12.certificates_pem, p12.key_pem);
      }
    }
  } catch (const crypto::crypto_error&) {
    ERR_clear_error();
    return 0;
  } catch (const std::exception& e) {
    fuzz::fail("a credential file reader threw something other than crypto_error", e.what());
  }
  ERR_clear_error();
  return 0;
}
