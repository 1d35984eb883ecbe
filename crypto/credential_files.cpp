#include "crypto/credential_files.hpp"

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>

#include <algorithm>
#include <vector>

#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"

namespace cbcs::crypto {
namespace {

using pkcs7_ptr = std::unique_ptr<PKCS7, openssl_deleter<PKCS7, PKCS7_free>>;
using pkcs12_ptr = std::unique_ptr<PKCS12, openssl_deleter<PKCS12, PKCS12_free>>;
using decoder_ptr =
    std::unique_ptr<OSSL_DECODER_CTX, openssl_deleter<OSSL_DECODER_CTX, OSSL_DECODER_CTX_free>>;

[[noreturn]] void fail(credential_file_error::reason why, const std::string& text) {
  // OpenSSL's queue would add its own words to ours; ours say what to do.
  ERR_clear_error();
  throw credential_file_error(why, text);
}

bool looks_like_pem(std::string_view content) {
  return content.find("-----BEGIN ") != std::string_view::npos;
}



std::string certificates_of(STACK_OF(X509) * certs) {
  std::string out;
  for (int i = 0; certs && i < sk_X509_num(certs); ++i) out += certificate_to_pem(sk_X509_value(certs, i));
  return out;
}

// A certs-only PKCS#7 (what Windows exports as .p7b), DER or PEM.
std::optional<std::string> pkcs7_certificates(std::string_view content) {
  pkcs7_ptr p7;
  if (looks_like_pem(content)) {
    bio_ptr bio{BIO_new_mem_buf(content.data(), static_cast<int>(content.size()))};
    p7.reset(bio ? PEM_read_bio_PKCS7(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  } else {
    auto* p = reinterpret_cast<const unsigned char*>(content.data());
    p7.reset(d2i_PKCS7(nullptr, &p, static_cast<long>(content.size())));
  }
  if (!p7 || OBJ_obj2nid(p7->type) != NID_pkcs7_signed || !p7->d.sign) return std::nullopt;
  auto out = certificates_of(p7->d.sign->cert);
  if (out.empty()) return std::nullopt;
  return out;
}

// The first PEM block whose label ends in "PRIVATE KEY" (PKCS#8, encrypted
// PKCS#8, RSA, EC), from a file that may also hold certificates before it.
std::string_view private_key_block(std::string_view content) {
  for (std::size_t at = content.find("-----BEGIN "); at != std::string_view::npos;
       at = content.find("-----BEGIN ", at + 1)) {
    auto label_end = content.find("-----", at + 11);
    if (label_end == std::string_view::npos) break;
    auto label = content.substr(at + 11, label_end - at - 11);
    if (!label.ends_with("PRIVATE KEY")) continue;
    auto end_line = "-----END " + std::string(label) + "-----";
    auto end = content.find(end_line, label_end);
    if (end == std::string_view::npos) return content.substr(at);
    return content.substr(at, end + end_line.size() - at);
  }
  return content;
}

}  // namespace

credential_file_error::credential_file_error(reason why, const std::string& text)
    : crypto_error(text), why_(why) {}

std::string certificates_as_pem(std::string_view content) {
  using reason = credential_file_error::reason;
  if (content.size() > static_cast<std::size_t>(INT32_MAX)) fail(reason::unreadable, "too large");
  if (looks_like_pem(content)) {
    if (content.find("-----BEGIN PKCS7-----") != std::string_view::npos)
      if (auto certs = pkcs7_certificates(content)) return *certs;
    try {
      std::string out;
      for (const auto& cert : parse_certificates(content)) out += certificate_to_pem(cert.get());
      return out;
    } catch (const crypto_error&) {
      fail(reason::unreadable, "holds no readable certificate (PEM, DER or PKCS#7)");
    }
  }
  // DER: one certificate (a .cer), or several back to back.
  std::string out;
  auto* p = reinterpret_cast<const unsigned char*>(content.data());
  const auto* end = p + content.size();
  while (p < end) {
    x509_ptr cert{d2i_X509(nullptr, &p, static_cast<long>(end - p))};
    if (!cert) {
      out.clear();
      break;
    }
    out += certificate_to_pem(cert.get());
  }
  if (!out.empty()) return out;
  ERR_clear_error();
  if (auto certs = pkcs7_certificates(content)) return *certs;
  fail(reason::unreadable, "holds no readable certificate (PEM, DER or PKCS#7)");
}

namespace {

struct asked_for {
  const std::optional<std::string>* password;
  bool asked = false;
};

// OpenSSL asks only for an encrypted key; without a password, refusing
// tells us it is one rather than prompting on a terminal.
int answer_password(char* buf, int size, int, void* u) {
  auto* s = static_cast<asked_for*>(u);
  s->asked = true;
  if (!*s->password) return -1;
  const auto& pw = **s->password;
  if (pw.size() > static_cast<std::size_t>(size)) return -1;
  std::copy(pw.begin(), pw.end(), buf);
  return static_cast<int>(pw.size());
}

// Any input (PEM or DER), any structure (PKCS#8, encrypted PKCS#8, PKCS#1,
// SEC1, PEM with Proc-Type encryption); null when it does not decode.
pkey_ptr decode_key(std::string_view input, asked_for& state) {
  EVP_PKEY* raw = nullptr;
  decoder_ptr ctx{OSSL_DECODER_CTX_new_for_pkey(&raw, nullptr, nullptr, nullptr,
                                                 EVP_PKEY_KEYPAIR, nullptr, nullptr)};
  if (!ctx || OSSL_DECODER_CTX_set_pem_password_cb(ctx.get(), answer_password, &state) != 1)
    throw crypto_error("cannot set up the key decoder");
  auto* data = reinterpret_cast<const unsigned char*>(input.data());
  std::size_t len = input.size();
  bool decoded = OSSL_DECODER_from_data(ctx.get(), &data, &len) == 1;
  pkey_ptr key{raw};
  return decoded ? std::move(key) : nullptr;
}

// Whether OpenSSL's queue (drained) says an algorithm is missing: OpenSSL 3
// keeps RC2, single DES and PBES1 (old Windows exports) in its legacy
// provider.
bool missing_algorithm() {
  bool missing = false;
  for (unsigned long e; (e = ERR_get_error()) != 0;) {
    auto r = ERR_GET_REASON(e);
    if (r == ERR_R_UNSUPPORTED || r == EVP_R_UNSUPPORTED_CIPHER ||
        r == EVP_R_UNSUPPORTED_ALGORITHM || r == ERR_R_FETCH_FAILED)
      missing = true;
  }
  return missing;
}

// Loads the legacy provider once, where this OpenSSL has it as a module;
// false when it has not. It stays loaded for the process and is unloaded at
// exit, before OpenSSL's own clean-up (registered earlier), so nothing of it
// is left behind (LeakSanitizer).
bool load_legacy_provider() {
  static const std::unique_ptr<OSSL_PROVIDER, decltype(&OSSL_PROVIDER_unload)> legacy{
      OSSL_PROVIDER_try_load(nullptr, "legacy", 1), &OSSL_PROVIDER_unload};
  return legacy != nullptr;
}

}  // namespace

std::string private_key_as_pem(std::string_view content,
                               const std::optional<std::string>& password) {
  using reason = credential_file_error::reason;
  if (content.size() > static_cast<std::size_t>(INT32_MAX)) fail(reason::unreadable, "too large");
  asked_for state{&password};
  auto input = looks_like_pem(content) ? private_key_block(content) : content;
  auto key = decode_key(input, state);
  if (!key && state.asked && password && missing_algorithm() && load_legacy_provider())
    key = decode_key(input, state);
  if (key) {
    ERR_clear_error();
    return private_key_to_pem(key.get());
  }
  if (state.asked && !password) fail(reason::needs_password, "holds an encrypted private key");
  if (state.asked) {
    if (missing_algorithm())
      fail(reason::unsupported_cipher,
           "holds a key encrypted with a legacy cipher this build does not offer: export it "
           "again with AES (openssl pkcs8 -topk8 -v2 aes-256-cbc)");
    fail(reason::wrong_password, "holds an encrypted private key that the password does not open");
  }
  fail(reason::unreadable,
       "holds no readable private key (PKCS#8, PKCS#1 or SEC1, in PEM or DER)");
}

pkcs12_contents read_pkcs12(std::string_view content, std::string_view password) {
  using reason = credential_file_error::reason;
  if (content.size() > static_cast<std::size_t>(INT32_MAX)) fail(reason::unreadable, "too large");
  auto* p = reinterpret_cast<const unsigned char*>(content.data());
  pkcs12_ptr p12{d2i_PKCS12(nullptr, &p, static_cast<long>(content.size()))};
  if (!p12) fail(reason::unreadable, "is not a PKCS#12 file (.p12/.pfx, DER)");
  std::string pw(password);
  // Exports "without a password" use either an empty string or none at all.
  const char* pass = pw.c_str();
  if (PKCS12_mac_present(p12.get())) {
    if (PKCS12_verify_mac(p12.get(), pass, static_cast<int>(pw.size())) != 1) {
      if (pw.empty() && PKCS12_verify_mac(p12.get(), nullptr, 0) == 1) {
        pass = nullptr;
      } else {
        fail(pw.empty() ? reason::needs_password : reason::wrong_password,
             pw.empty() ? "is protected by a password" : "does not open with that password");
      }
    }
  }
  EVP_PKEY* raw_key = nullptr;
  X509* raw_cert = nullptr;
  STACK_OF(X509)* raw_ca = nullptr;
  bool parsed = PKCS12_parse(p12.get(), pass, &raw_key, &raw_cert, &raw_ca) == 1;
  if (!parsed && missing_algorithm() && load_legacy_provider())
    parsed = PKCS12_parse(p12.get(), pass, &raw_key, &raw_cert, &raw_ca) == 1;
  if (!parsed) {
    if (missing_algorithm())
      fail(reason::unsupported_cipher,
           "is encrypted with a legacy cipher (RC2 or DES) this build does not offer: export "
           "it again with AES (openssl pkcs12 -export, or Windows' 'AES256-SHA256' option), "
           "or give -cert and -key");
    fail(reason::unreadable, "cannot be read (damaged, or not a certificate and key)");
  }
  pkey_ptr key{raw_key};
  x509_ptr cert{raw_cert};
  x509_stack_ptr ca{raw_ca};
  if (!key) fail(reason::unreadable, "holds no private key");
  if (!cert) fail(reason::unreadable, "holds no certificate for its private key");
  ERR_clear_error();
  return {.certificates_pem = certificate_to_pem(cert.get()) + certificates_of(ca.get()),
          .key_pem = private_key_to_pem(key.get())};
}

std::string key_certificate_first(std::string_view certificates_pem, std::string_view key_pem) {
  try {
    auto certs = parse_certificates(certificates_pem);
    auto key = parse_private_key(key_pem);
    for (std::size_t i = 0; i < certs.size(); ++i) {
      if (!key_matches_certificate(key.get(), certs[i].get())) continue;
      if (i == 0) break;
      std::string out = certificate_to_pem(certs[i].get());
      for (std::size_t j = 0; j < certs.size(); ++j)
        if (j != i) out += certificate_to_pem(certs[j].get());
      return out;
    }
  } catch (const crypto_error&) {
    ERR_clear_error();
  }
  return std::string(certificates_pem);
}

}  // namespace cbcs::crypto
