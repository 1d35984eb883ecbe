#pragma once
// Certificate signing requests (PKCS #10), parsed and checked once per job.
//
// OpenSSL 3.0 decodes the public key of every request it parses through its
// provider decoders, which costs more than verifying the signature. The fast
// path here reads the request with ASN.1 templates of its own that keep the
// key as bytes, builds the key from its parts, and verifies. Whatever it does
// not accept goes through OpenSSL's own parser (parse_and_check_csr), which
// stays the judge of every rejection and of every rare form (RSA-PSS, ...).

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "crypto/openssl_types.hpp"

namespace cbcs::crypto {

// A request we refuse to sign; what() says why in one line. Never retried.
class csr_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class certificate_request {
 public:
  certificate_request(certificate_request&&) noexcept;
  certificate_request& operator=(certificate_request&&) noexcept;
  ~certificate_request();

  // The parts of a request built in code (the simulator's templates): no
  // checks, and req must outlive the result.
  static certificate_request from(X509_REQ* req);

  X509_NAME* subject() const;
  // SubjectPublicKeyInfo as encoded: algorithm (with parameters) and key bytes.
  const X509_ALGOR* key_algorithm() const;
  const unsigned char* key_data() const;
  int key_length() const;
  bool is_rsa() const;
  // The extension as requested, or nullptr.
  X509_EXTENSION* subject_alt_name() const;
  // "CN=web.example,O=Org" (RFC 2253), for the ledger.
  std::string subject_line() const;
  // True when the fast path read it (tests and the fuzz target compare paths).
  bool fast() const;

  struct parts;

 private:
  explicit certificate_request(std::unique_ptr<parts> p);
  static certificate_request adopt(X509_REQ* req, x509_req_ptr owned);
  std::unique_ptr<parts> p_;
  friend certificate_request check_certificate_request(std::string_view pem);
};

// Parses a PEM CSR and checks its signature and key: RSA 2048..8192 bits, EC
// on P-256/P-384/P-521, or Ed25519; and that it names a subject CN or SANs.
// Throws csr_error naming the problem.
certificate_request check_certificate_request(std::string_view pem);

// The same checks through OpenSSL's own parser only.
x509_req_ptr parse_and_check_csr(std::string_view pem);

}  // namespace cbcs::crypto
