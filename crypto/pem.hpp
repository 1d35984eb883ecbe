#pragma once
// PEM certificates and private keys: parsing and the checks `backend add` makes.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/bytes.hpp"
#include "crypto/openssl_types.hpp"

namespace cbcs::crypto {

// Every certificate in a PEM bundle, in order. Throws crypto_error naming the
// problem when the text holds no certificate or a damaged one.
std::vector<x509_ptr> parse_certificates(std::string_view pem);

// One private key (PKCS#8 or traditional, unencrypted). Throws crypto_error.
pkey_ptr parse_private_key(std::string_view pem);

// True when key is the private half of cert's public key.
bool key_matches_certificate(EVP_PKEY* key, X509* cert);

// True when the first certificate of cert_pem is for the public key of the
// CSR csr_pem; false when either cannot be read.
bool certificate_matches_csr(std::string_view cert_pem, std::string_view csr_pem);

// text with every PEM private key in it (any "-----BEGIN ...PRIVATE KEY-----"
// block, to its END line or, without one, to the end) replaced by
// "[private key removed]": for messages that echo what a person typed or a
// file held, which may be a key given by mistake.
std::string without_private_keys(std::string_view text);

// "CN=example, O=Org" in RFC 2253 order, for messages and `backend show`.
std::string subject_line(X509* cert);
std::string subject_line(const X509_NAME* name);

// The serial number in lower-case hex, two digits per byte, no colons and no
// leading zero byte ("1f03a2..."), as jobs and outcomes carry it.
std::string serial_hex(X509* cert);
// The same from the first certificate of a PEM text, read from its DER
// alone: OpenSSL 3.0 would decode the whole certificate, key included, for
// it (~0.1 ms). Throws crypto_error when there is no readable certificate.
std::string certificate_serial_hex(std::string_view pem);

// The DER of the first PEM block with this label ("CERTIFICATE"), when its
// body is plain base64 (line breaks aside); nullopt otherwise, for OpenSSL's
// reader to judge.
std::optional<bytes> pem_block_der(std::string_view pem, std::string_view label);

// The DER of the first PEM block OpenSSL's reader takes for `name` (e.g.
// PEM_STRING_X509_REQ, which also takes "NEW CERTIFICATE REQUEST"); nullopt
// when it finds none.
std::optional<bytes> openssl_pem_der(std::string_view pem, const char* name);

// DER as PEM text: "-----BEGIN <label>-----", base64 in lines of 64, the
// END line, as PEM_write_bio_* writes it (without its BIO round trip).
std::string der_to_pem(std::string_view label, byte_view der);

// "RSA 2048", "EC P-256", ... for messages and inventory.
std::string key_description(EVP_PKEY* key);

}  // namespace cbcs::crypto
