#include <doctest/doctest.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstring>

#include "crypto/certificate_authority.hpp"
#include "crypto/certificate_request.hpp"
#include "test_pki.hpp"

using namespace cbcs;

namespace {

// An RSA key's CSR signed with RSA-PSS: a form only OpenSSL's parser reads.
std::string pss_csr() {
  crypto::pkey_ptr key{EVP_RSA_gen(2048)};
  crypto::x509_req_ptr req{X509_REQ_new()};
  X509_REQ_set_pubkey(req.get(), key.get());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("pss.example"), -1, -1, 0);
  crypto::md_ctx_ptr ctx{EVP_MD_CTX_new()};
  EVP_PKEY_CTX* pctx = nullptr;
  REQUIRE(EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key.get()) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
  REQUIRE(X509_REQ_sign_ctx(req.get(), ctx.get()) > 0);
  crypto::bio_ptr bio{BIO_new(BIO_s_mem())};
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

TEST_SUITE("certificate_request") {
  TEST_CASE("common requests take the fast path and read as OpenSSL reads them") {
    for (std::string kind : {"p256", "p384", "rsa2048", "ed25519"}) {
      CAPTURE(kind);
      auto pem = test::make_csr(kind, kind + ".example", "san." + kind + ".example");
      auto fast = crypto::check_certificate_request(pem);
      CHECK(fast.fast());
      auto slow = crypto::parse_and_check_csr(pem);
      const unsigned char* bits = nullptr;
      int bits_len = 0;
      X509_PUBKEY_get0_param(nullptr, &bits, &bits_len, nullptr,
                             X509_REQ_get_X509_PUBKEY(slow.get()));
      REQUIRE(bits_len == fast.key_length());
      CHECK(std::memcmp(bits, fast.key_data(), static_cast<std::size_t>(bits_len)) == 0);
      CHECK(fast.subject_line() == "CN=" + kind + ".example");
      CHECK(fast.subject_alt_name() != nullptr);
      CHECK(fast.is_rsa() == (kind == "rsa2048"));
    }
  }

  TEST_CASE("rare forms go to OpenSSL's parser and still pass") {
    auto pem = pss_csr();
    auto request = crypto::check_certificate_request(pem);
    CHECK_FALSE(request.fast());
    CHECK(request.subject_line() == "CN=pss.example");
  }

  TEST_CASE("refusals keep OpenSSL's reasons") {
    auto refused = [](const std::string& pem) {
      try {
        crypto::check_certificate_request(pem);
      } catch (const crypto::csr_error& e) {
        return std::string(e.what());
      }
      return std::string("accepted");
    };
    CHECK(refused("junk") == "CSR is not a PEM certificate request");
    CHECK(refused(test::make_csr("rsa1024", "weak")) == "CSR key is RSA 1024, below 2048 bits");
    CHECK(refused(test::make_csr("secp256k1", "k1")).find("secp256k1") != std::string::npos);
    auto tampered = test::make_csr("p256", "tampered");
    auto pos = tampered.find('\n') + 60;
    tampered[pos] = tampered[pos] == 'A' ? 'B' : 'A';
    auto why = refused(tampered);
    CHECK(why != "accepted");
    CHECK(refused(std::string(70 * 1024, 'A')) == "CSR is larger than 64 KiB");
  }
}
