#pragma once
// Certificates and private keys in the forms administrators have them (a
// Windows export's DER .cer, a .p7b chain, PKCS#1 or SEC1 keys, an encrypted
// PKCS#8, a .pfx), read into the one form cbcs seals: PEM certificates and
// an unencrypted PKCS#8 PEM key. No error quotes the content or a password.

#include <optional>
#include <string>
#include <string_view>

#include "crypto/openssl_error.hpp"

namespace cbcs::crypto {

// Why a credential file could not be read, for the caller to name the fix
// (the option that gives the password, another export).
class credential_file_error : public crypto_error {
 public:
  enum class reason { unreadable, needs_password, wrong_password, unsupported_cipher };
  credential_file_error(reason why, const std::string& text);
  reason why() const { return why_; }

 private:
  reason why_;
};

// PEM (text around the blocks ignored), one DER certificate, or a PKCS#7
// certs-only bundle (.p7b, DER or PEM) -> the certificates as PEM, in order.
std::string certificates_as_pem(std::string_view content);

// PKCS#8 (plain or encrypted), PKCS#1 RSA or SEC1 EC, PEM or DER -> the key
// as unencrypted PKCS#8 PEM. `password` is used only when the key is
// encrypted; without one an encrypted key fails with needs_password.
std::string private_key_as_pem(std::string_view content,
                               const std::optional<std::string>& password);

struct pkcs12_contents {
  std::string certificates_pem;  // the key's certificate first, then the rest
  std::string key_pem;           // unencrypted PKCS#8
};
// A PKCS#12 (.p12, .pfx) file with one private key and its certificate.
// An empty password also tries "no password" (exports differ).
pkcs12_contents read_pkcs12(std::string_view content, std::string_view password);

// certificates_pem with the certificate of key_pem's public key moved first
// (a .p7b's order is arbitrary; the leaf is what a TLS client presents);
// unchanged when none matches or either cannot be read.
std::string key_certificate_first(std::string_view certificates_pem, std::string_view key_pem);

}  // namespace cbcs::crypto
