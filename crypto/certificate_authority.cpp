#include "crypto/certificate_authority.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <climits>
#include <cstring>
#include <ctime>

#include "crypto/openssl_error.hpp"
#include "crypto/pem.hpp"

namespace cbcs::crypto {
namespace {

using asn1_time_ptr = std::unique_ptr<ASN1_TIME, openssl_deleter<ASN1_TIME, ASN1_TIME_free>>;
using bn_ptr = std::unique_ptr<BIGNUM, openssl_deleter<BIGNUM, BN_free>>;
using crl_ptr = std::unique_ptr<X509_CRL, openssl_deleter<X509_CRL, X509_CRL_free>>;
using ext_stack_ptr =
    std::unique_ptr<STACK_OF(X509_EXTENSION), void (*)(STACK_OF(X509_EXTENSION)*)>;

void free_ext_stack(STACK_OF(X509_EXTENSION) * s) {
  sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

void set_time(ASN1_TIME* field, std::chrono::system_clock::time_point t) {
  if (!ASN1_TIME_set(field, std::chrono::system_clock::to_time_t(t)))
    throw crypto_error("cannot set certificate time");
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) throw crypto_error(std::string("cannot build extension ") + OBJ_nid2sn(nid));
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

const EVP_MD* digest_for(EVP_PKEY* key) {
  // Ed25519 signs without a separate digest.
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

void set_serial(X509* cert, const std::vector<std::uint8_t>& serial) {
  bn_ptr bn{BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr)};
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)))
    throw crypto_error("cannot set serial number");
}

}  // namespace

bool is_supported_key_algorithm(std::string_view name) {
  return name == "ecdsa-p256" || name == "ecdsa-p384" || name == "rsa-2048" || name == "rsa-3072" ||
         name == "rsa-4096";
}

pkey_ptr generate_key(std::string_view algorithm) {
  EVP_PKEY* key = nullptr;
  if (algorithm == "ecdsa-p256") key = EVP_EC_gen("P-256");
  if (algorithm == "ecdsa-p384") key = EVP_EC_gen("P-384");
  if (algorithm == "rsa-2048") key = EVP_RSA_gen(2048);
  if (algorithm == "rsa-3072") key = EVP_RSA_gen(3072);
  if (algorithm == "rsa-4096") key = EVP_RSA_gen(4096);
  if (!key) throw crypto_error("cannot generate a " + std::string(algorithm) + " key");
  return pkey_ptr{key};
}

std::string private_key_to_pem(EVP_PKEY* key) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr))
    throw crypto_error("cannot write private key");
  return bio_text(bio.get());
}

std::string certificate_to_pem(X509* cert) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!PEM_write_bio_X509(bio.get(), cert)) throw crypto_error("cannot write certificate");
  return bio_text(bio.get());
}

ca_identity create_root_ca(std::string_view algorithm, std::string_view common_name,
                           std::chrono::system_clock::time_point now, std::chrono::hours lifetime) {
  auto key = generate_key(algorithm);
  x509_ptr cert{X509_new()};
  X509_set_version(cert.get(), 2);
  std::vector<std::uint8_t> serial(16);
  if (RAND_bytes(serial.data(), 16) != 1) throw crypto_error("random failed");
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  set_serial(cert.get(), serial);
  set_time(X509_getm_notBefore(cert.get()), now - std::chrono::minutes(5));
  set_time(X509_getm_notAfter(cert.get()), now + lifetime);
  X509_set_pubkey(cert.get(), key.get());
  auto* name = X509_get_subject_name(cert.get());
  std::string cn(common_name);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  if (!X509_sign(cert.get(), key.get(), digest_for(key.get())))
    throw crypto_error("cannot sign CA certificate");
  return {private_key_to_pem(key.get()), certificate_to_pem(cert.get())};
}

std::string create_csr(EVP_PKEY* key, std::string_view common_name,
                       const std::vector<std::string>& dns_names) {
  x509_req_ptr req{X509_REQ_new()};
  X509_REQ_set_version(req.get(), 0);
  X509_REQ_set_pubkey(req.get(), key);
  std::string cn(common_name);
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  if (!dns_names.empty()) {
    std::string value;
    for (const auto& d : dns_names) value += (value.empty() ? "DNS:" : ",DNS:") + d;
    ext_stack_ptr exts{sk_X509_EXTENSION_new_null(), free_ext_stack};
    X509_EXTENSION* ext =
        X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, value.c_str());
    if (!ext) throw crypto_error("cannot build subjectAltName");
    sk_X509_EXTENSION_push(exts.get(), ext);
    X509_REQ_add_extensions(req.get(), exts.get());
  }
  if (!X509_REQ_sign(req.get(), key, digest_for(key))) throw crypto_error("cannot sign CSR");
  bio_ptr bio{BIO_new(BIO_s_mem())};
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  return bio_text(bio.get());
}

x509_req_ptr parse_and_check_csr(std::string_view pem) {
  if (pem.size() > 64 * 1024) throw csr_error("CSR is larger than 64 KiB");
  bio_ptr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  x509_req_ptr req{PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr)};
  ERR_clear_error();
  if (!req) throw csr_error("CSR is not a PEM certificate request");
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (!key) throw csr_error("CSR has no usable public key");
  int bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      if (bits < 2048)
        throw csr_error("CSR key is RSA " + std::to_string(bits) + ", below 2048 bits");
      if (bits > 8192)
        throw csr_error("CSR key is RSA " + std::to_string(bits) + ", above 8192 bits");
      break;
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      EVP_PKEY_get_group_name(key, group, sizeof group, &len);
      std::string_view g(group);
      if (g != "prime256v1" && g != "secp384r1" && g != "secp521r1")
        throw csr_error("CSR key is on curve " + std::string(g.empty() ? "unknown" : g) +
                        "; P-256, P-384 or P-521 is required");
      break;
    }
    case EVP_PKEY_ED25519:
      break;
    default:
      throw csr_error("CSR key type is not RSA, ECDSA or Ed25519");
  }
  if (X509_REQ_verify(req.get(), key) != 1) {
    ERR_clear_error();
    throw csr_error("CSR signature does not verify");
  }
  bool has_cn =
      X509_NAME_get_index_by_NID(X509_REQ_get_subject_name(req.get()), NID_commonName, -1) >= 0;
  ext_stack_ptr exts{X509_REQ_get_extensions(req.get()), free_ext_stack};
  bool has_san = exts && X509v3_get_ext_by_NID(exts.get(), NID_subject_alt_name, -1) >= 0;
  if (!has_cn && !has_san) throw csr_error("CSR names neither a subject CN nor subjectAltNames");
  return req;
}

std::string issue_certificate(EVP_PKEY* ca_key, X509* ca_cert, X509_REQ* csr,
                              const issue_params& params) {
  if (params.validity <= std::chrono::seconds(0)) throw csr_error("validity must be positive");
  x509_ptr cert{X509_new()};
  X509_set_version(cert.get(), 2);
  set_serial(cert.get(), params.serial);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert));
  X509_set_subject_name(cert.get(), X509_REQ_get_subject_name(csr));
  X509_set_pubkey(cert.get(), X509_REQ_get0_pubkey(csr));
  // Five minutes back-dated for clients whose clocks run slow.
  set_time(X509_getm_notBefore(cert.get()), params.now - std::chrono::minutes(5));
  auto end = params.now + params.validity;
  auto ca_end = not_after(ca_cert);
  set_time(X509_getm_notAfter(cert.get()), end < ca_end ? end : ca_end);

  add_extension(cert.get(), ca_cert, NID_basic_constraints, "critical,CA:FALSE");
  bool rsa = EVP_PKEY_get_base_id(X509_REQ_get0_pubkey(csr)) == EVP_PKEY_RSA;
  add_extension(cert.get(), ca_cert, NID_key_usage,
                rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature");
  add_extension(cert.get(), ca_cert, NID_ext_key_usage, "serverAuth,clientAuth");
  add_extension(cert.get(), ca_cert, NID_subject_key_identifier, "hash");
  add_extension(cert.get(), ca_cert, NID_authority_key_identifier, "keyid:always");
  ext_stack_ptr exts{X509_REQ_get_extensions(csr), free_ext_stack};
  if (exts) {
    int at = X509v3_get_ext_by_NID(exts.get(), NID_subject_alt_name, -1);
    if (at >= 0) X509_add_ext(cert.get(), X509v3_get_ext(exts.get(), at), -1);
  }
  if (!X509_sign(cert.get(), ca_key, digest_for(ca_key)))
    throw crypto_error("cannot sign certificate");
  return certificate_to_pem(cert.get());
}

std::string make_crl(EVP_PKEY* ca_key, X509* ca_cert, const std::vector<revoked_entry>& revoked,
                     std::uint64_t crl_number, std::chrono::system_clock::time_point now,
                     std::chrono::hours next_update) {
  crl_ptr crl{X509_CRL_new()};
  X509_CRL_set_version(crl.get(), 1);
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca_cert));
  asn1_time_ptr last{ASN1_TIME_new()}, next{ASN1_TIME_new()};
  set_time(last.get(), now);
  set_time(next.get(), now + next_update);
  X509_CRL_set1_lastUpdate(crl.get(), last.get());
  X509_CRL_set1_nextUpdate(crl.get(), next.get());
  for (const auto& r : revoked) {
    X509_REVOKED* rev = X509_REVOKED_new();
    BIGNUM* bn = nullptr;
    if (!BN_hex2bn(&bn, r.serial_hex.c_str())) {
      X509_REVOKED_free(rev);
      throw crypto_error("bad serial in revocation list");
    }
    ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, nullptr);
    BN_free(bn);
    X509_REVOKED_set_serialNumber(rev, serial);
    ASN1_INTEGER_free(serial);
    asn1_time_ptr when{ASN1_TIME_new()};
    set_time(when.get(), r.revoked_at);
    X509_REVOKED_set_revocationDate(rev, when.get());
    ASN1_ENUMERATED* reason = ASN1_ENUMERATED_new();
    ASN1_ENUMERATED_set(reason, r.reason);
    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0);
    ASN1_ENUMERATED_free(reason);
    X509_CRL_add0_revoked(crl.get(), rev);
  }
  ASN1_INTEGER* number = ASN1_INTEGER_new();
  ASN1_INTEGER_set_uint64(number, crl_number);
  X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number, 0, 0);
  ASN1_INTEGER_free(number);
  X509_CRL_sort(crl.get());
  if (!X509_CRL_sign(crl.get(), ca_key, digest_for(ca_key))) throw crypto_error("cannot sign CRL");
  bio_ptr bio{BIO_new(BIO_s_mem())};
  PEM_write_bio_X509_CRL(bio.get(), crl.get());
  return bio_text(bio.get());
}

std::string subject_of(X509_REQ* csr) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  X509_NAME_print_ex(bio.get(), X509_REQ_get_subject_name(csr), 0, XN_FLAG_RFC2253);
  return bio_text(bio.get());
}

std::chrono::system_clock::time_point not_after(X509* cert) {
  struct tm tm {};
  if (!ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm)) throw crypto_error("bad notAfter");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

bool is_signed_by(X509* cert, X509* issuer) {
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  bool ok = key && X509_verify(cert, key) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace cbcs::crypto
