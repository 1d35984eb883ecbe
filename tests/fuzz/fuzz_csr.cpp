// Every CSR a job brings, through both parsers: check_certificate_request
// (our fast path, falling back to OpenSSL's parser) and parse_and_check_csr
// (OpenSSL's parser only). They must agree on every input: the same verdict,
// and for an accepted request the same subject and the same key bytes. Only
// csr_error may be thrown.

#include <openssl/err.h>
#include <openssl/x509.h>

#include <cstring>
#include <optional>

#include "crypto/certificate_request.hpp"
#include "crypto/pem.hpp"
#include "fuzz_check.hpp"

using namespace cbcs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ERR_clear_error();
  auto text = fuzz::as_text(data, size);
  std::optional<crypto::certificate_request> fast;
  crypto::x509_req_ptr slow;
  try {
    fast.emplace(crypto::check_certificate_request(text));
  } catch (const crypto::csr_error&) {
  } catch (const std::exception& e) {
    fuzz::fail("check_certificate_request threw something other than csr_error", e.what());
  }
  try {
    slow = crypto::parse_and_check_csr(text);
  } catch (const crypto::csr_error&) {
  } catch (const std::exception& e) {
    fuzz::fail("parse_and_check_csr threw something other than csr_error", e.what());
  }
  ERR_clear_error();
  fuzz::check(fast.has_value() == (slow != nullptr),
              fast ? "the fast path accepted a CSR OpenSSL refuses"
                   : "the fast path refused a CSR OpenSSL accepts");
  if (!slow) return 0;
  EVP_PKEY* key = X509_REQ_get0_pubkey(slow.get());
  fuzz::check(key != nullptr, "an accepted CSR has no public key");
  fuzz::check(X509_REQ_verify(slow.get(), key) == 1, "an accepted CSR does not verify");
  const unsigned char* bits = nullptr;
  int bits_len = 0;
  X509_PUBKEY_get0_param(nullptr, &bits, &bits_len, nullptr, X509_REQ_get_X509_PUBKEY(slow.get()));
  fuzz::check(bits_len == fast->key_length() && std::memcmp(bits, fast->key_data(), bits_len) == 0,
              "the two parsers read different keys");
  fuzz::check(crypto::subject_line(X509_REQ_get_subject_name(slow.get())) == fast->subject_line(),
              "the two parsers read different subjects");
  ERR_clear_error();
  return 0;
}
