// crypto::parse_certificates: `-cacert` bundles, CA answers (AWS GetCertificate,
// DigiCert, ...). Throws crypto_error or returns at least one certificate that
// the callers' follow-ups (serial, subject) can read and that re-encodes to
// the same certificate. certificate_serial_hex, which reads only the DER,
// must never throw anything but crypto_error, and must agree with serial_hex
// on every certificate OpenSSL reads. Its PEM reader (pem_block_der) must
// read exactly the bytes OpenSSL's does whenever it reads anything.

#include <string>
#include <vector>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/openssl_error.hpp"
#include "crypto/pem.hpp"
#include "fuzz_check.hpp"

using namespace cbcs;

// Our reader of plain PEM blocks must read exactly what OpenSSL's reads, or
// leave the text to it (nullopt).
void check_pem_block(std::string_view text) {
  auto ours = crypto::pem_block_der(text, "CERTIFICATE");
  if (!ours) return;
  auto theirs = crypto::openssl_pem_der(text, PEM_STRING_X509);
  bool read = theirs.has_value();
  bool same = read && *theirs == *ours;
  fuzz::check(read, "pem_block_der read a block OpenSSL's PEM reader refuses");
  fuzz::check(same, "pem_block_der and OpenSSL's PEM reader read different bytes");
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ERR_clear_error();
  check_pem_block(fuzz::as_text(data, size));
  std::string quick;
  try {
    quick = crypto::certificate_serial_hex(fuzz::as_text(data, size));
  } catch (const crypto::crypto_error&) {
  } catch (const std::exception& e) {
    fuzz::fail("certificate_serial_hex threw something other than crypto_error", e.what());
  }
  ERR_clear_error();
  std::vector<crypto::x509_ptr> certs;
  try {
    certs = crypto::parse_certificates(fuzz::as_text(data, size));
  } catch (const crypto::crypto_error&) {
    return 0;
  } catch (const std::exception& e) {
    fuzz::fail("parse_certificates threw something other than crypto_error", e.what());
  }
  fuzz::check(!certs.empty(), "parse_certificates returned no certificate");
  try {
    fuzz::check(quick == crypto::serial_hex(certs.front().get()),
                "certificate_serial_hex and serial_hex disagree", quick);
  } catch (const crypto::crypto_error&) {
  }
  for (const auto& cert : certs) {
    fuzz::check(cert != nullptr, "parse_certificates returned a null certificate");
    try {
      auto serial = crypto::serial_hex(cert.get());
      fuzz::check(serial.size() % 2 == 0, "serial_hex has an odd length", serial);
    } catch (const crypto::crypto_error&) {
    }
    (void)crypto::subject_line(cert.get());
    unsigned char* der = nullptr;
    int len = i2d_X509(cert.get(), &der);
    if (len > 0) {
      const unsigned char* p = der;
      crypto::x509_ptr again{d2i_X509(nullptr, &p, len)};
      fuzz::check(again != nullptr && X509_cmp(cert.get(), again.get()) == 0,
                  "a parsed certificate does not re-encode to itself");
    }
    OPENSSL_free(der);
  }
  ERR_clear_error();
  return 0;
}
