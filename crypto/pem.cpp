#include "crypto/pem.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cctype>
#include <climits>
#include <optional>

#include "crypto/base64.hpp"
#include "crypto/der.hpp"
#include "crypto/openssl_error.hpp"

namespace cbcs::crypto {
namespace {

bio_ptr memory_bio(std::string_view text) {
  if (text.size() > INT_MAX) throw crypto_error("PEM text too large");
  bio_ptr bio{BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))};
  if (!bio) throw crypto_error("cannot allocate BIO");
  return bio;
}

void free_openssl_string(char* p) { OPENSSL_free(p); }

}  // namespace

std::vector<x509_ptr> parse_certificates(std::string_view pem) {
  auto bio = memory_bio(pem);
  std::vector<x509_ptr> out;
  while (true) {
    x509_ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)};
    if (!cert) break;
    out.push_back(std::move(cert));
  }
  // Reading stops with "no start line" at the end of input; anything else is damage.
  auto err = ERR_peek_last_error();
  if (ERR_GET_REASON(err) == PEM_R_NO_START_LINE && !out.empty()) ERR_clear_error();
  if (out.empty()) throw crypto_error("no PEM certificate found");
  if (ERR_peek_error() != 0) throw crypto_error("damaged PEM certificate");
  return out;
}

pkey_ptr parse_private_key(std::string_view pem) {
  auto bio = memory_bio(pem);
  // An empty passphrase callback result makes encrypted keys fail instead of prompting.
  auto no_prompt = [](char*, int, int, void*) -> int { return 0; };
  pkey_ptr key{PEM_read_bio_PrivateKey(bio.get(), nullptr, no_prompt, nullptr)};
  if (!key) throw crypto_error("no unencrypted PEM private key found");
  ERR_clear_error();
  return key;
}

bool key_matches_certificate(EVP_PKEY* key, X509* cert) {
  bool ok = X509_check_private_key(cert, key) == 1;
  ERR_clear_error();
  return ok;
}

bool certificate_matches_csr(std::string_view cert_pem, std::string_view csr_pem) {
  try {
    auto certs = parse_certificates(cert_pem);
    bio_ptr bio{BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size()))};
    x509_req_ptr req{bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr) : nullptr};
    EVP_PKEY* key = req ? X509_REQ_get0_pubkey(req.get()) : nullptr;
    bool ok = key && EVP_PKEY_eq(key, X509_get0_pubkey(certs.front().get())) == 1;
    ERR_clear_error();
    return ok;
  } catch (const crypto_error&) {
    ERR_clear_error();
    return false;
  }
}

std::string subject_line(X509* cert) { return subject_line(X509_get_subject_name(cert)); }

std::string subject_line(const X509_NAME* name) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!bio) throw crypto_error("cannot allocate BIO");
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

namespace {

std::string serial_hex(const ASN1_INTEGER* serial) {
  std::unique_ptr<BIGNUM, openssl_deleter<BIGNUM, BN_free>> bn{ASN1_INTEGER_to_BN(serial, nullptr)};
  if (!bn) throw crypto_error("cannot read the certificate serial number");
  std::unique_ptr<char, openssl_deleter<char, free_openssl_string>> hex{BN_bn2hex(bn.get())};
  if (!hex) throw crypto_error("cannot format the certificate serial number");
  std::string out(hex.get());
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.size() % 2 != 0) out.insert(out.begin(), '0');  // BN_bn2hex writes "0" for zero
  return out;
}

}  // namespace

std::string serial_hex(X509* cert) { return serial_hex(X509_get0_serialNumber(cert)); }

std::string der_to_pem(std::string_view label, byte_view der) {
  auto body = base64_encode(der);
  std::string out;
  out.reserve(body.size() + body.size() / 64 + 2 * label.size() + 40);
  out.append("-----BEGIN ").append(label).append("-----\n");
  for (std::size_t i = 0; i < body.size(); i += 64) out.append(body, i, 64).push_back('\n');
  out.append("-----END ").append(label).append("-----\n");
  return out;
}

std::optional<bytes> pem_block_der(std::string_view pem, std::string_view label) {
  // Only the plainest form, so that it never reads a block OpenSSL's reader
  // would not, or another one: the text's first BEGIN line is this label's,
  // every line ends in LF or CRLF, no line is empty (OpenSSL takes what
  // precedes an empty line for headers), and END closes a line of its own.
  auto begin = pem.find("-----BEGIN ");
  if (begin == std::string_view::npos || (begin > 0 && pem[begin - 1] != '\n')) return std::nullopt;
  auto begin_line = "-----BEGIN " + std::string(label) + "-----";
  auto end_line = "-----END " + std::string(label) + "-----";
  std::string body;
  bool at_begin = true;
  for (auto rest = pem.substr(begin);; at_begin = false) {
    auto eol = rest.find('\n');
    auto line = rest.substr(0, eol);
    if (line.ends_with('\r')) line.remove_suffix(1);
    // Headers are not base64 (nullopt); OpenSSL refuses an empty body.
    if (!at_begin && line == end_line) return body.empty() ? std::nullopt : base64_decode(body);
    if (eol == std::string_view::npos || line.find('\r') != std::string_view::npos ||
        (at_begin ? line != begin_line : line.empty()))
      return std::nullopt;
    if (!at_begin) body.append(line);
    rest.remove_prefix(eol + 1);
  }
}

std::optional<bytes> openssl_pem_der(std::string_view pem, const char* name) {
  auto bio = memory_bio(pem);
  unsigned char* der = nullptr;
  long len = 0;
  char* found_name = nullptr;
  char* header = nullptr;
  bool read = PEM_bytes_read_bio(&der, &len, &found_name, name, bio.get(), nullptr, nullptr) == 1;
  openssl_bytes_ptr owned{der};
  OPENSSL_free(found_name);
  OPENSSL_free(header);
  ERR_clear_error();
  if (!read) return std::nullopt;
  return bytes(der, der + len);
}

std::string certificate_serial_hex(std::string_view pem) {
  // Decoded here when plain; OpenSSL's PEM reader (a BIO and its EVP base64
  // decoder) costs more than the rest of this function.
  auto der_bytes = pem_block_der(pem, "CERTIFICATE");
  if (!der_bytes) der_bytes = openssl_pem_der(pem, PEM_STRING_X509);
  if (!der_bytes) throw crypto_error("no PEM certificate found");
  const unsigned char* der = der_bytes->data();
  auto der_len = static_cast<long>(der_bytes->size());
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL,
  // serialNumber INTEGER, ... }, ... }
  const unsigned char* p = der;
  const unsigned char* end = der + der_len;
  if (der_enter(p, end - p, V_ASN1_SEQUENCE) < 0 || der_enter(p, end - p, V_ASN1_SEQUENCE) < 0)
    throw crypto_error("the certificate is not DER");
  if (p < end && *p == 0xa0) {  // [0] EXPLICIT version
    long len = der_enter(p, end - p, 0, V_ASN1_CONTEXT_SPECIFIC);
    if (len < 0) throw crypto_error("the certificate version is malformed");
    p += len;
  }
  std::unique_ptr<ASN1_INTEGER, openssl_deleter<ASN1_INTEGER, ASN1_INTEGER_free>> serial{
      d2i_ASN1_INTEGER(nullptr, &p, end - p)};
  ERR_clear_error();
  if (!serial) throw crypto_error("the certificate has no readable serial number");
  return serial_hex(serial.get());
}

std::string key_description(EVP_PKEY* key) {
  int bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return "RSA " + std::to_string(bits);
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1)
        return std::string("EC ") + group;
      return "EC " + std::to_string(bits);
    }
    case EVP_PKEY_ED25519:
      return "Ed25519";
    default:
      return "key of " + std::to_string(bits) + " bits";
  }
}

std::string without_private_keys(std::string_view text) {
  constexpr std::string_view begin = "-----BEGIN ";
  constexpr std::string_view key_end = "PRIVATE KEY-----";
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto b = text.find(begin, at);
    if (b == std::string_view::npos) break;
    auto line_end = text.find("-----", b + begin.size());
    bool is_key = line_end != std::string_view::npos && line_end + 5 >= key_end.size() &&
                  text.substr(line_end + 5 - key_end.size(), key_end.size()) == key_end;
    if (!is_key) {
      out.append(text.substr(at, b + begin.size() - at));
      at = b + begin.size();
      continue;
    }
    out.append(text.substr(at, b - at));
    out.append("[private key removed]");
    auto e = text.find("-----END ", line_end + 5);
    auto e_line = e == std::string_view::npos ? std::string_view::npos : text.find("-----", e + 9);
    at = e_line == std::string_view::npos ? text.size() : e_line + 5;
  }
  if (at < text.size()) out.append(text.substr(at));
  return out;
}

}  // namespace cbcs::crypto
