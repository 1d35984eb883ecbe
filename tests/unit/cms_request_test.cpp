// CMS for AD CS: the request an enrollment agent signs on behalf of a subject
// ([MS-WCCE] 3.1.1.4.3.3.2), judged by the openssl command (signature, chain,
// eContentType, the name-value pair as BMPStrings), and the reader of the
// CA's answers: certs-only bundles as `openssl crl2pkcs7` writes them, CMC
// Full PKI Responses (RFC 5272) built here, and damaged input.

#include <doctest/doctest.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include "crypto/base64.hpp"
#include "crypto/cms_request.hpp"
#include "crypto/openssl_error.hpp"
#include "crypto/pem.hpp"
#include "crypto/random.hpp"
#include "test_pki.hpp"
#ifndef _WIN32
#include "cli/child_process.hpp"
#endif

using namespace cbcs;

namespace cms_request_test {

crypto::pkey_ptr key_of(const std::string& kind) {
  auto pem = test::make_key_pem(kind);
  return crypto::parse_private_key(pem);
}

// A certificate for key, signed by issuer_key (self-signed without issuer).
crypto::x509_ptr make_cert(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                           bool ca, const char* eku = nullptr) {
  static long serial = 1;
  crypto::x509_ptr cert{X509_new()};
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, signer, cert.get(), nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    crypto::ext_ptr ext{X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str())};
    REQUIRE(ext);
    X509_add_ext(cert.get(), ext.get(), -1);
  };
  add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add(NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  add(NID_subject_key_identifier, "hash");
  if (issuer) add(NID_authority_key_identifier, "keyid:always");
  if (eku) add(NID_ext_key_usage, eku);
  REQUIRE(X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0);
  return cert;
}

std::string pem_of(X509* cert) {
  crypto::bio_ptr bio{BIO_new(BIO_s_mem())};
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

crypto::bytes der_of(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  crypto::openssl_bytes_ptr owned{der};
  return crypto::bytes(der, der + len);
}

// A root, an issuing CA under it, and an enrollment agent under that
// (Certificate Request Agent EKU 1.3.6.1.4.1.311.20.2.1, [MS-WCCE] 3.2.2.6.2.1.2.1.1).
struct agent_pki {
  crypto::pkey_ptr root_key, issuing_key, agent_key;
  crypto::x509_ptr root, issuing, agent;
  explicit agent_pki(const std::string& agent_kind) {
    root_key = key_of("p256");
    issuing_key = key_of("p256");
    agent_key = key_of(agent_kind);
    root = make_cert("Test Root", root_key.get(), nullptr, nullptr, true);
    issuing =
        make_cert("local-SectigoTestCA-CA", issuing_key.get(), root.get(), root_key.get(), true);
    agent = make_cert("agent.example.local", agent_key.get(), issuing.get(), issuing_key.get(),
                      false, "1.3.6.1.4.1.311.20.2.1");
  }
};

crypto::bytes csr_der(const std::string& kind, const std::string& cn) {
  auto der = crypto::pem_block_der(test::make_csr(kind, cn), "CERTIFICATE REQUEST");
  REQUIRE(der);
  return *der;
}

crypto::bytes sign(agent_pki& pki, const crypto::bytes& csr, const std::string& requester,
                   bool with_chain = true) {
  crypto::on_behalf_request request;
  request.pkcs10_der = csr;
  request.agent_key = pki.agent_key.get();
  request.agent_cert = pki.agent.get();
  if (with_chain) request.chain = {pki.issuing.get(), pki.root.get()};
  request.requester_name = requester;
  return crypto::sign_on_behalf_request(request);
}

void write_file(const std::string& path, crypto::byte_view data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

crypto::bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return crypto::bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string cms_error_of(crypto::byte_view der, EVP_PKEY* key = nullptr) {
  try {
    crypto::read_ca_response(der, key);
  } catch (const crypto::cms_error& e) {
    return e.what();
  }
  return {};
}

// DER by hand for the CMC answers a CA would send.
crypto::bytes tlv(std::uint8_t tag, const crypto::bytes& content) {
  crypto::bytes out{tag};
  std::size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else if (n < 0x100) {
    out.insert(out.end(), {0x81, static_cast<std::uint8_t>(n)});
  } else {
    out.insert(out.end(), {0x82, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)});
  }
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

crypto::bytes cat(std::initializer_list<crypto::bytes> parts) {
  crypto::bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

crypto::bytes integer(std::uint8_t v) { return tlv(0x02, {v}); }
crypto::bytes sequence(std::initializer_list<crypto::bytes> parts) { return tlv(0x30, cat(parts)); }
crypto::bytes utf8(const std::string& s) { return tlv(0x0c, crypto::bytes(s.begin(), s.end())); }
const crypto::bytes status_v1_oid = tlv(0x06, {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x07, 0x01});
const crypto::bytes status_v2_oid = tlv(0x06, {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x07, 0x19});

// TaggedAttribute { bodyPartID, attrType, attrValues SET OF }
crypto::bytes control(const crypto::bytes& oid, const crypto::bytes& value) {
  return sequence({integer(1), oid, tlv(0x31, value)});
}

crypto::bytes pki_response(std::initializer_list<crypto::bytes> controls) {
  return sequence({tlv(0x30, cat(controls)), sequence({}), sequence({})});
}

// Finishes a partial CMS over content and returns its DER; frees cms.
crypto::bytes finish(CMS_ContentInfo* cms, const crypto::bytes& content) {
  crypto::bio_ptr in{BIO_new_mem_buf(content.data(), static_cast<int>(content.size()))};
  bool signed_ok = CMS_final(cms, in.get(), nullptr, CMS_BINARY) == 1;
  unsigned char* der = nullptr;
  int len = signed_ok ? i2d_CMS_ContentInfo(cms, &der) : 0;
  CMS_ContentInfo_free(cms);
  crypto::openssl_bytes_ptr owned{der};
  REQUIRE(len > 0);
  return crypto::bytes(der, der + len);
}

// A SignedData over content with eContentType id-cct-PKIResponse, signed by
// the CA and carrying certs, as AD CS answers through CES.
crypto::bytes cmc_answer(agent_pki& pki, const crypto::bytes& content,
                         const std::vector<X509*>& certs) {
  STACK_OF(X509)* stack = sk_X509_new_null();
  for (X509* c : certs) sk_X509_push(stack, c);
  CMS_ContentInfo* cms = CMS_sign(pki.issuing.get(), pki.issuing_key.get(), stack, nullptr,
                                  CMS_BINARY | CMS_PARTIAL | CMS_NOCERTS);
  sk_X509_free(stack);
  REQUIRE(cms);
  ASN1_OBJECT* type = OBJ_nid2obj(NID_id_cct_PKIResponse);
  REQUIRE(CMS_set1_eContentType(cms, type) == 1);
  return finish(cms, content);
}

// Issues a certificate for the CSR's key under the issuing CA.
crypto::x509_ptr issue_for(agent_pki& pki, const crypto::bytes& csr) {
  const unsigned char* p = csr.data();
  crypto::x509_req_ptr req{d2i_X509_REQ(nullptr, &p, static_cast<long>(csr.size()))};
  REQUIRE(req);
  return make_cert("user.example", X509_REQ_get0_pubkey(req.get()), pki.issuing.get(),
                   pki.issuing_key.get(), false, "clientAuth");
}

#ifndef _WIN32
int openssl(std::vector<std::string> args, std::string& out) {
  auto program = test::on_path("openssl");
  REQUIRE_MESSAGE(!program.empty(), "openssl is not on PATH");
  args.insert(args.begin(), program);
  return cli::run_child_all(args, out);
}
#endif

}  // namespace cms_request_test

TEST_SUITE("cms_request") {
  using namespace cms_request_test;

  TEST_CASE("cms: the name-value pair is encoded as Microsoft prints it") {
    // [MS-WCCE] 2.2.2.7.10 / Microsoft's BMPString example: CertificateTemplate=User.
    auto der = crypto::encode_name_value_pair({"CertificateTemplate", "User"});
    crypto::bytes want = {0x30, 0x32, 0x1e, 0x26};
    for (char c : std::string("CertificateTemplate")) want.insert(want.end(), {0, std::uint8_t(c)});
    want.insert(want.end(), {0x1e, 0x08, 0, 'U', 0, 's', 0, 'e', 0, 'r'});
    CHECK(der == want);
    // Beyond ASCII, within the BMP: UCS-2 big-endian.
    auto e = crypto::encode_name_value_pair({"n", "\xc3\xa9"});
    CHECK(e == crypto::bytes{0x30, 0x08, 0x1e, 0x02, 0x00, 'n', 0x1e, 0x02, 0x00, 0xe9});
    CHECK_THROWS_AS(crypto::encode_name_value_pair({"n", "\xf0\x9f\x98\x80"}), crypto::cms_error);
    CHECK_THROWS_AS(crypto::encode_name_value_pair({"n", "\xc3"}), crypto::cms_error);
  }

  TEST_CASE("cms: requests on behalf carry the PKCS #10, the agent's chain and requestername") {
    for (std::string kind : {"rsa2048", "p256", "p384"}) {
      CAPTURE(kind);
      agent_pki pki(kind);
      auto csr = csr_der("p256", "user.example");
      auto cms = sign(pki, csr, "CONTOSO\\jdoe");
      auto pairs = crypto::signed_name_value_pairs(cms);
      REQUIRE(pairs.size() == 1);
      CHECK(pairs[0] == crypto::name_value_pair{"requestername", "CONTOSO\\jdoe"});

      const unsigned char* p = cms.data();
      CMS_ContentInfo* parsed = d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(cms.size()));
      REQUIRE(parsed);
      CHECK(OBJ_obj2nid(CMS_get0_type(parsed)) == NID_pkcs7_signed);
      CHECK(OBJ_obj2nid(CMS_get0_eContentType(parsed)) == NID_pkcs7_data);
      ASN1_OCTET_STRING** content = CMS_get0_content(parsed);
      REQUIRE((content && *content));
      CHECK(crypto::bytes(ASN1_STRING_get0_data(*content),
                          ASN1_STRING_get0_data(*content) + ASN1_STRING_length(*content)) == csr);
      STACK_OF(X509)* certs = CMS_get1_certs(parsed);
      CHECK(sk_X509_num(certs) == 3);
      sk_X509_pop_free(certs, X509_free);
      auto* signers = CMS_get0_SignerInfos(parsed);
      REQUIRE(sk_CMS_SignerInfo_num(signers) == 1);
      auto* si = sk_CMS_SignerInfo_value(signers, 0);
      CHECK(CMS_SignerInfo_cert_cmp(si, pki.agent.get()) == 0);
      X509_ALGOR* digest = nullptr;
      CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest, nullptr);
      CHECK(OBJ_obj2nid(digest->algorithm) == NID_sha256);
      CHECK(CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1) >= 0);
      CHECK(CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1) >= 0);
      CMS_ContentInfo_free(parsed);

      // Without the chain: the agent's certificate alone ([MS-WCCE] 3.1.1.4.3.3.2 asks no more).
      auto alone = sign(pki, csr, "CONTOSO\\jdoe", false);
      p = alone.data();
      parsed = d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(alone.size()));
      REQUIRE(parsed);
      certs = CMS_get1_certs(parsed);
      CHECK(sk_X509_num(certs) == 1);
      sk_X509_pop_free(certs, X509_free);
      CMS_ContentInfo_free(parsed);
    }
  }

  TEST_CASE("cms: name-value pairs read in both forms, terminators dropped, damage refused") {
    agent_pki pki("p256");
    auto csr = csr_der("p256", "user.example");
    // A CMS signed here with the attribute value given as raw DER.
    auto signed_with = [&](const crypto::bytes& value, bool add = true) {
      CMS_ContentInfo* cms = CMS_sign(nullptr, nullptr, nullptr, nullptr, CMS_PARTIAL | CMS_BINARY);
      REQUIRE(cms);
      auto* si = CMS_add1_signer(cms, pki.agent.get(), pki.agent_key.get(), EVP_sha256(),
                                 CMS_PARTIAL | CMS_BINARY);
      REQUIRE(si);
      ASN1_OBJECT* oid = OBJ_txt2obj(crypto::enrollment_name_value_pair_oid, 1);
      if (add)
        REQUIRE(CMS_signed_add1_attr_by_OBJ(si, oid, V_ASN1_SEQUENCE, value.data(),
                                            static_cast<int>(value.size())) == 1);
      ASN1_OBJECT_free(oid);
      return finish(cms, csr);
    };
    auto bmp = [](const std::string& ascii) {
      crypto::bytes ucs2;
      for (char c : ascii) ucs2.insert(ucs2.end(), {0, static_cast<std::uint8_t>(c)});
      return tlv(0x1e, ucs2);
    };
    // NUL-terminated strings, as impacket-based clients (Certipy) write them.
    auto with_nul = sequence(
        {bmp(std::string("requestername") + '\0'), bmp(std::string("CONTOSO\\jdoe") + '\0')});
    CHECK(crypto::signed_name_value_pairs(signed_with(with_nul)) ==
          std::vector<crypto::name_value_pair>{{"requestername", "CONTOSO\\jdoe"}});
    // SEQUENCE OF pairs in one value, the form [MS-WCCE] 2.2.2.7.10 prints.
    auto list = sequence({sequence({bmp("requestername"), bmp("CONTOSO\\jdoe")}),
                          sequence({bmp("CertificateTemplate"), bmp("User")})});
    CHECK(crypto::signed_name_value_pairs(signed_with(list)) ==
          std::vector<crypto::name_value_pair>{{"requestername", "CONTOSO\\jdoe"},
                                               {"CertificateTemplate", "User"}});
    auto refused = [&](const crypto::bytes& value) {
      try {
        crypto::signed_name_value_pairs(signed_with(value));
      } catch (const crypto::cms_error& e) {
        return std::string(e.what());
      }
      return std::string("accepted");
    };
    CHECK(test::contains(refused(sequence({bmp("requestername")})), "malformed"));
    CHECK(test::contains(refused(sequence({bmp("a"), utf8("b")})), "malformed"));
    CHECK(test::contains(refused(sequence({bmp("a"), tlv(0x1e, {0x00})})), "malformed"));
    CHECK(test::contains(refused(sequence({bmp("a"), tlv(0x1e, {0xd8, 0x00})})), "malformed"));
    CHECK(test::contains(refused(sequence({})), "empty"));
    // No attribute at all: no pairs; not a CMS: refused.
    CHECK(crypto::signed_name_value_pairs(signed_with({}, false)).empty());
    CHECK_THROWS_AS(crypto::signed_name_value_pairs(crypto::bytes{0x30, 0x00}), crypto::cms_error);
  }

  TEST_CASE("cms: what cannot be signed is refused with one line") {
    agent_pki pki("p256");
    auto csr = csr_der("p256", "user.example");
    auto refused = [&](crypto::on_behalf_request r) -> std::string {
      try {
        crypto::sign_on_behalf_request(r);
      } catch (const crypto::cms_error& e) {
        return e.what();
      }
      return "accepted";
    };
    crypto::on_behalf_request good;
    good.pkcs10_der = csr;
    good.agent_key = pki.agent_key.get();
    good.agent_cert = pki.agent.get();
    good.requester_name = "CONTOSO\\jdoe";
    CHECK_NOTHROW(crypto::sign_on_behalf_request(good));

    auto r = good;
    auto other = key_of("p256");
    r.agent_key = other.get();
    CHECK(test::contains(refused(r), "not the agent certificate's key"));
    auto ed = key_of("ed25519");
    r.agent_key = ed.get();
    CHECK(test::contains(refused(r), "RSA or ECDSA on P-256 or P-384"));
    auto k1 = key_of("secp256k1");
    r.agent_key = k1.get();
    CHECK(test::contains(refused(r), "RSA or ECDSA on P-256 or P-384"));
    r = good;
    r.agent_cert = nullptr;
    CHECK(test::contains(refused(r), "no agent certificate"));
    r = good;
    crypto::bytes garbage{0x30, 0x03, 0x02, 0x01, 0x00};
    r.pkcs10_der = garbage;
    CHECK(test::contains(refused(r), "not a DER PKCS #10"));
    auto trailing = csr;
    trailing.push_back(0);
    r.pkcs10_der = trailing;
    CHECK(test::contains(refused(r), "not a DER PKCS #10"));
    r.pkcs10_der = {};
    CHECK(test::contains(refused(r), "empty"));
    r = good;
    r.requester_name = "";
    CHECK(test::contains(refused(r), "requester name"));
    r.requester_name = "CONTOSO\\j\ndoe";
    CHECK(test::contains(refused(r), "control character"));
    r.requester_name = std::string(300, 'a');
    CHECK(test::contains(refused(r), "requester name"));
    r.requester_name = "CONTOSO\\\xf0\x9f\x98\x80";
    CHECK(test::contains(refused(r), "Basic Multilingual Plane"));
    CHECK(ERR_peek_error() == 0);
  }

#ifndef _WIN32
  TEST_CASE("cms: openssl cms verifies the request and reads requestername as BMPStrings") {
    for (std::string kind : {"rsa2048", "p256", "p384"}) {
      CAPTURE(kind);
      agent_pki pki(kind);
      test::temp_dir dir;
      auto csr = csr_der("rsa2048", "user.example");
      auto cms = sign(pki, csr, "CONTOSO\\jdoe");
      auto in = dir.path() + "/request.p7b";
      auto ca = dir.path() + "/root.pem";
      auto content = dir.path() + "/content.der";
      write_file(in, cms);
      std::ofstream(ca) << pem_of(pki.root.get());
      std::string out;
      // The agent's chain up to the root, from the certificates the CMS carries.
      int rc = openssl({"cms", "-verify", "-inform", "DER", "-in", in, "-CAfile", ca, "-purpose",
                        "any", "-binary", "-out", content},
                       out);
      CHECK_MESSAGE(rc == 0, out);
      CHECK(test::contains(out, "Verification successful"));
      CHECK(read_file(content) == csr);
      rc = openssl(
          {"cms", "-verify", "-inform", "DER", "-in", in, "-noverify", "-binary", "-out", content},
          out);
      CHECK_MESSAGE(rc == 0, out);
      // Another root does not vouch for the agent.
      agent_pki stranger("p256");
      std::ofstream(ca) << pem_of(stranger.root.get());
      rc = openssl({"cms", "-verify", "-inform", "DER", "-in", in, "-CAfile", ca, "-purpose", "any",
                    "-binary", "-out", content},
                   out);
      CHECK(rc != 0);
      // A flipped byte in the signed content fails the signature.
      auto damaged = cms;
      auto at = std::search(damaged.begin(), damaged.end(), csr.begin(), csr.end());
      REQUIRE(at != damaged.end());
      at[40] ^= 0x01;
      write_file(in, damaged);
      rc = openssl(
          {"cms", "-verify", "-inform", "DER", "-in", in, "-noverify", "-binary", "-out", content},
          out);
      CHECK(rc != 0);
      write_file(in, cms);

      rc = openssl({"cms", "-cmsout", "-print", "-inform", "DER", "-in", in, "-noout"}, out);
      REQUIRE_MESSAGE(rc == 0, out);
      CHECK(test::contains(out, "eContentType: pkcs7-data"));
      CHECK(test::contains(out, "1.3.6.1.4.1.311.13.2.1"));
      CHECK(test::contains(out, "algorithm: sha256"));
      CHECK(test::contains(out, "signingTime"));

      // The attribute's value, as asn1parse reads it: SET { SEQUENCE { BMPString,
      // BMPString } }; asn1parse does not print BMPStrings, so their bytes are
      // taken from where it says they are.
      rc = openssl({"asn1parse", "-inform", "DER", "-in", in, "-i"}, out);
      REQUIRE_MESSAGE(rc == 0, out);
      auto oid_at = out.find(":1.3.6.1.4.1.311.13.2.1");
      REQUIRE(oid_at != std::string::npos);
      std::istringstream lines(out.substr(oid_at));
      std::string line;
      std::vector<std::string> shape, strings;
      std::getline(lines, line);
      while (shape.size() < 4 && std::getline(lines, line)) {
        auto colon = line.find(':');
        auto hl = line.find("hl=");
        auto l = line.find(" l=");
        REQUIRE((colon != std::string::npos && hl != std::string::npos && l != std::string::npos));
        auto kind = line.substr(line.find(':', l) + 1);
        kind = kind.substr(kind.find_first_not_of(' '));
        shape.push_back(kind.substr(0, kind.find(' ')));
        if (shape.back() != "BMPSTRING") continue;
        auto offset = std::stoul(line.substr(0, colon));
        auto header = std::stoul(line.substr(hl + 3));
        auto length = std::stoul(line.substr(l + 3));
        REQUIRE(offset + header + length <= cms.size());
        std::string text;
        for (auto i = offset + header; i + 1 < offset + header + length; i += 2) {
          CHECK(cms[i] == 0);  // UCS-2 big-endian, ASCII here
          text.push_back(static_cast<char>(cms[i + 1]));
        }
        strings.push_back(text);
      }
      CHECK(shape == std::vector<std::string>{"SET", "SEQUENCE", "BMPSTRING", "BMPSTRING"});
      CHECK(strings == std::vector<std::string>{"requestername", "CONTOSO\\jdoe"});
      // And the bytes: "requestername" and "CONTOSO\jdoe" in UCS-2, big-endian.
      auto name = crypto::encode_name_value_pair({"requestername", "CONTOSO\\jdoe"});
      CHECK(std::search(cms.begin(), cms.end(), name.begin(), name.end()) != cms.end());
    }
  }

  TEST_CASE("cms: a certs-only bundle from openssl crl2pkcs7 reads leaf first") {
    agent_pki pki("p256");
    auto csr = csr_der("p256", "user.example");
    auto leaf = issue_for(pki, csr);
    test::temp_dir dir;
    auto chain = dir.path() + "/chain.pem";
    auto bundle = dir.path() + "/bundle.p7b";
    // Root first, on purpose: the reader puts the leaf first whatever the order.
    std::ofstream(chain) << pem_of(pki.root.get()) << pem_of(leaf.get())
                         << pem_of(pki.issuing.get());
    std::string out;
    int rc = openssl({"crl2pkcs7", "-nocrl", "-certfile", chain, "-outform", "DER", "-out", bundle},
                     out);
    REQUIRE_MESSAGE(rc == 0, out);
    auto der = read_file(bundle);

    auto read = crypto::read_ca_response(der);
    CHECK_FALSE(read.cmc);
    CHECK(read.status == crypto::cmc_status::absent);
    REQUIRE(read.certificates.size() == 3);
    CHECK(read.certificates[0] == pem_of(leaf.get()));
    CHECK(read.certificates[1] == pem_of(pki.issuing.get()));
    CHECK(read.certificates[2] == pem_of(pki.root.get()));

    auto by_csr = crypto::read_ca_response_for_csr(der, csr);
    CHECK(by_csr.certificates == read.certificates);
    // The leaf is the one for the request's key, even where another would look like one.
    auto agent_first = crypto::read_ca_response(der, pki.issuing_key.get());
    CHECK(agent_first.certificates[0] == pem_of(pki.issuing.get()));
    CHECK(agent_first.certificates[1] == pem_of(pki.root.get()));
    auto stranger = key_of("p256");
    CHECK(test::contains(cms_error_of(der, stranger.get()), "no certificate in the CA's answer"));

    // Base64 with CR LF breaks, as CES sends it.
    auto text = crypto::base64_encode(der);
    for (std::size_t at = 64; at < text.size(); at += 66) text.insert(at, "\r\n");
    CHECK(crypto::read_ca_response_base64(text).certificates == read.certificates);
    CHECK_THROWS_AS(crypto::read_ca_response_base64("not*base64"), crypto::cms_error);

    // PEM form of the same bundle via the openssl command agrees.
    rc = openssl({"pkcs7", "-inform", "DER", "-in", bundle, "-print_certs"}, out);
    CHECK(rc == 0);
    CHECK(test::contains(out, "user.example"));
  }
#endif

  TEST_CASE("cms: CMC Full PKI Responses: success with the chain, pending, failed") {
    agent_pki pki("p256");
    auto csr = csr_der("p256", "user.example");
    auto leaf = issue_for(pki, csr);
    const unsigned char* p = csr.data();
    crypto::x509_req_ptr req{d2i_X509_REQ(nullptr, &p, static_cast<long>(csr.size()))};
    EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());

    // success: CMCStatusInfo { success, bodyList { 1 } }; the chain in certificates.
    auto success =
        pki_response({control(status_v1_oid, sequence({integer(0), sequence({integer(1)})}))});
    auto der = cmc_answer(pki, success, {pki.root.get(), pki.issuing.get(), leaf.get()});
    auto read = crypto::read_ca_response(der, key);
    CHECK(read.cmc);
    CHECK(read.status == crypto::cmc_status::success);
    CHECK(read.problem.empty());
    REQUIRE(read.certificates.size() == 3);
    CHECK(read.certificates[0] == pem_of(leaf.get()));
    CHECK(read.certificates[2] == pem_of(pki.root.get()));
    // Success that does not hold the request's certificate is no success.
    auto without_leaf = cmc_answer(pki, success, {pki.root.get(), pki.issuing.get()});
    CHECK(test::contains(cms_error_of(without_leaf, key), "no certificate in the CA's answer"));
    auto empty_success = cmc_answer(pki, success, {});
    CHECK(test::contains(cms_error_of(empty_success, key), "reports success but holds no"));

    // pending: pendInfo { pendToken, pendTime }, no certificate for the key.
    crypto::bytes token{0x00, 0x00, 0x00, 0x2a};
    auto pending = pki_response({control(
        status_v1_oid,
        sequence({integer(3), sequence({integer(1)}), utf8("Taken Under Submission"),
                  sequence({tlv(0x04, token),
                            tlv(0x18, crypto::bytes{'2', '0', '2', '6', '0', '1', '0', '1', '0',
                                                    '0', '0', '0', '0', '0', 'Z'})})}))});
    read = crypto::read_ca_response(cmc_answer(pki, pending, {pki.issuing.get()}), key);
    CHECK(read.status == crypto::cmc_status::pending);
    CHECK(read.status_string == "Taken Under Submission");
    CHECK(read.pend_token == token);
    CHECK(read.certificates.size() == 1);

    // failed, V2: failInfo badRequest (2) and a message with a line break.
    auto failed = pki_response(
        {control(status_v2_oid, sequence({integer(2), sequence({integer(1)}),
                                          utf8("Denied by Policy\r\nModule"), integer(2)}))});
    read = crypto::read_ca_response(cmc_answer(pki, failed, {}), key);
    CHECK(read.status == crypto::cmc_status::failed);
    CHECK(read.fail_info == 2);
    CHECK(read.status_string == "Denied by Policy  Module");
    CHECK(read.certificates.empty());
    CHECK(crypto::to_string(read.status) == "failed");

    // No status control at all: absent; an unknown status value: unknown, said why.
    read = crypto::read_ca_response(cmc_answer(pki, pki_response({}), {leaf.get()}), key);
    CHECK(read.status == crypto::cmc_status::absent);
    auto odd =
        pki_response({control(status_v1_oid, sequence({integer(9), sequence({integer(1)})}))});
    read = crypto::read_ca_response(cmc_answer(pki, odd, {leaf.get()}));
    CHECK(read.status == crypto::cmc_status::unknown);
    CHECK(read.problem == "CMC status 9");

    // Two statuses that disagree; a malformed control; a PKIResponse that is not one.
    auto conflicting =
        pki_response({control(status_v1_oid, sequence({integer(0), sequence({integer(1)})})),
                      control(status_v2_oid, sequence({integer(2), sequence({integer(1)})}))});
    read = crypto::read_ca_response(cmc_answer(pki, conflicting, {leaf.get()}));
    CHECK(read.status == crypto::cmc_status::unknown);
    CHECK(test::contains(read.problem, "conflicting"));
    auto malformed = pki_response({sequence({integer(1), status_v1_oid})});
    read = crypto::read_ca_response(cmc_answer(pki, malformed, {leaf.get()}));
    CHECK(read.status == crypto::cmc_status::unknown);
    CHECK(test::contains(read.problem, "malformed control"));
    read = crypto::read_ca_response(cmc_answer(pki, crypto::bytes{0x04, 0x00}, {leaf.get()}));
    CHECK(read.status == crypto::cmc_status::unknown);
    CHECK(read.certificates.size() == 1);
    // Unknown controls are skipped.
    auto other_oid = tlv(0x06, {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x07, 0x07});
    auto mixed =
        pki_response({control(other_oid, integer(5)),
                      control(status_v1_oid, sequence({integer(0), sequence({integer(1)})}))});
    CHECK(crypto::read_ca_response(cmc_answer(pki, mixed, {leaf.get()}), key).status ==
          crypto::cmc_status::success);
  }

  TEST_CASE("cms: damaged, truncated and oversized answers give one line, never a crash") {
    agent_pki pki("p256");
    auto csr = csr_der("p256", "user.example");
    auto leaf = issue_for(pki, csr);
    auto success =
        pki_response({control(status_v1_oid, sequence({integer(0), sequence({integer(1)})}))});
    auto der = cmc_answer(pki, success, {pki.issuing.get(), leaf.get()});
    for (std::size_t n = 0; n < der.size(); n += (n < 64 ? 1 : 7)) {
      CAPTURE(n);
      auto msg = cms_error_of(crypto::byte_view(der.data(), n));
      CHECK_FALSE(msg.empty());
      CHECK(msg.find('\n') == std::string::npos);
    }
    auto trailing = der;
    trailing.push_back(0);
    CHECK(test::contains(cms_error_of(trailing), "bytes after"));
    for (int round = 0; round < 200; ++round) {
      auto noise = crypto::random_bytes(1 + round * 13 % 900);
      auto msg = cms_error_of(noise);
      CHECK_FALSE(msg.empty());
    }
    // Flipped bytes all through: either read or refused, nothing else.
    for (std::size_t at = 0; at < der.size(); at += 11) {
      auto flipped = der;
      flipped[at] ^= 0x5a;
      try {
        crypto::read_ca_response(flipped);
      } catch (const crypto::cms_error&) {
      }
    }
    crypto::bytes huge(crypto::max_ca_response_bytes + 1, 0x30);
    CHECK(test::contains(cms_error_of(huge), "larger than"));
    CHECK(test::contains(cms_error_of({}), "empty"));
    // SignedData of the wrong kind: our own request is id-data with content, not an answer
    // the reader refuses; an enveloped or digested structure is.
    crypto::bytes not_signed =
        sequence({tlv(0x06, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01}),
                  tlv(0xa0, tlv(0x04, {1, 2, 3}))});
    CHECK(test::contains(cms_error_of(not_signed), "not CMS SignedData"));
    CHECK(ERR_peek_error() == 0);
  }
}
