// crypto::parse_and_check_csr: every CSR a job brings for the local CA. Throws
// csr_error or returns a request with an accepted key, a valid signature and
// a subject CN or subjectAltNames.

#include <openssl/err.h>
#include <openssl/x509.h>

#include "crypto/certificate_authority.hpp"
#include "fuzz_check.hpp"

using namespace cbcs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ERR_clear_error();
  crypto::x509_req_ptr req;
  try {
    req = crypto::parse_and_check_csr(fuzz::as_text(data, size));
  } catch (const crypto::csr_error&) {
    ERR_clear_error();
    return 0;
  } catch (const std::exception& e) {
    fuzz::fail("parse_and_check_csr threw something other than csr_error", e.what());
  }
  fuzz::check(req != nullptr, "parse_and_check_csr returned a null request");
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  fuzz::check(key != nullptr, "an accepted CSR has no public key");
  fuzz::check(X509_REQ_verify(req.get(), key) == 1, "an accepted CSR does not verify");
  (void)crypto::subject_of(req.get());
  ERR_clear_error();
  return 0;
}
