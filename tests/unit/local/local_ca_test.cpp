#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>

#include "crypto/certificate_authority.hpp"
#include "crypto/openssl_error.hpp"
#include "crypto/pem.hpp"
#include "driver_harness.hpp"
#include "protocol/ca/local/local_driver.hpp"
#include "protocol/ca/local/local_ledger.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;

namespace {

struct local_fixture {
  test::temp_dir dir;
  std::unique_ptr<ca::driver> driver;

  local_fixture() {
    auto generated = ca::local::provision({});
    ca::driver_config config{.name = "local", .data_dir = dir.path()};
    config.settings["ca_cert"] = generated["ca_cert"];
    config.secrets["ca_key"] = generated["ca_key"];
    driver = ca::local::make_driver(config);
  }

  ca::outcome run(const ca::job& j) {
    auto session = driver->start(j, {});
    auto step = session->next(nullptr, {std::chrono::system_clock::now()});
    REQUIRE(std::holds_alternative<ca::outcome>(step));
    return std::get<ca::outcome>(step);
  }

  ca::outcome enroll(const std::string& id, const std::string& csr, std::int64_t validity = 0) {
    ca::job j{.id = id,
              .op = ca::operation::enroll,
              .backend = "local",
              .csr_pem = csr,
              .validity_seconds = validity};
    return run(j);
  }
};

}  // namespace

TEST_SUITE("local_ca") {
  TEST_CASE("issues from a CSR with its subject and SANs, once per job id") {
    local_fixture f;
    auto csr = test::make_csr("p256", "web.example", "web.example");
    auto first = f.enroll("job-1", csr, 3600);
    REQUIRE(first.what == ca::outcome::kind::issued);
    auto cert = crypto::parse_certificates(first.certificate_pem);
    CHECK(crypto::subject_line(cert.front().get()) == "CN=web.example");
    CHECK(crypto::serial_hex(cert.front().get()) == first.serial_hex);
    CHECK(first.certificate_pem.size() > 100);
    CHECK(first.chain_pem.find("BEGIN CERTIFICATE") != std::string::npos);
    auto ca_cert = crypto::parse_certificates(first.chain_pem);
    CHECK(crypto::is_signed_by(cert.front().get(), ca_cert.front().get()));
    auto lifetime = crypto::not_after(cert.front().get()) - std::chrono::system_clock::now();
    CHECK(lifetime <= std::chrono::seconds(3600));
    CHECK(lifetime > std::chrono::seconds(3500));

    // The same job again (a replay after a crash): the same certificate.
    auto again = f.enroll("job-1", test::make_csr("p256", "other"));
    CHECK(again.serial_hex == first.serial_hex);
    auto other = f.enroll("job-2", csr);
    CHECK(other.serial_hex != first.serial_hex);

    // Recorded, but durable (and visible to others) only after the group commit.
    ca::local::local_ledger ledger(std::filesystem::path(f.dir.path()) /
                                   "local-ca/local/ledger.db");
    CHECK(ledger.issued_count() == 0);
    dynamic_cast<ca::keeps_records&>(*f.driver).make_durable();
    CHECK(ledger.issued_count() == 2);
  }

  TEST_CASE("certificates not made durable are gone with the process, never half-recorded") {
    local_fixture f;
    auto first = f.enroll("kept", test::make_csr("p256", "kept.example"));
    dynamic_cast<ca::keeps_records&>(*f.driver).make_durable();
    auto lost = f.enroll("lost", test::make_csr("p256", "lost.example"));
    REQUIRE(lost.what == ca::outcome::kind::issued);
    f.driver.reset();  // the process died before the outcome left the actor
    ca::local::local_ledger ledger(std::filesystem::path(f.dir.path()) /
                                   "local-ca/local/ledger.db");
    CHECK(ledger.issued_count() == 1);
    CHECK(ledger.find_by_job("kept").has_value());
    CHECK_FALSE(ledger.find_by_job("lost").has_value());
  }

  TEST_CASE("the certificate carries the CSR's public key, for every key type") {
    local_fixture f;
    for (std::string kind : {"p256", "p384", "rsa2048", "ed25519"}) {
      CAPTURE(kind);
      auto csr_pem = test::make_csr(kind, kind + ".example", kind + ".example");
      auto issued = f.enroll("key-" + kind, csr_pem);
      REQUIRE(issued.what == ca::outcome::kind::issued);
      auto cert = crypto::parse_certificates(issued.certificate_pem);
      auto csr = crypto::parse_and_check_csr(csr_pem);
      EVP_PKEY* cert_key = X509_get0_pubkey(cert.front().get());
      REQUIRE(cert_key != nullptr);
      CHECK(EVP_PKEY_eq(cert_key, X509_REQ_get0_pubkey(csr.get())) == 1);
      auto ca_cert = crypto::parse_certificates(issued.chain_pem);
      CHECK(crypto::is_signed_by(cert.front().get(), ca_cert.front().get()));
      // Subject key id is the SHA-1 of the key bits; the authority key id is the CA's.
      const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(cert.front().get());
      REQUIRE(skid != nullptr);
      CHECK(ASN1_STRING_length(skid) == 20);
      const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(cert.front().get());
      REQUIRE(akid != nullptr);
      CHECK(ASN1_OCTET_STRING_cmp(akid, X509_get0_subject_key_id(ca_cert.front().get())) == 0);
      bool rsa = kind == "rsa2048";
      CHECK(((X509_get_key_usage(cert.front().get()) & KU_KEY_ENCIPHERMENT) != 0) == rsa);
    }
  }

  TEST_CASE("bad CSRs are refused with a clear reason") {
    local_fixture f;
    auto expect = [&](const std::string& csr, const std::string& fragment) {
      auto o = f.enroll("bad-" + std::to_string(std::hash<std::string>{}(csr)), csr);
      CHECK(o.what == ca::outcome::kind::failed);
      CHECK(o.error == ca::error_class::invalid_request);
      CHECK_FALSE(o.retryable);
      CHECK_MESSAGE(o.message.find(fragment) != std::string::npos, o.message);
    };
    expect("not a csr", "not a PEM certificate request");
    expect(test::make_csr("rsa1024", "weak"), "below 2048");
    expect(test::make_csr("secp256k1", "curve"), "secp256k1");
    auto csr = test::make_csr("p256", "tampered");
    // Alter one character of the signed body: the signature no longer verifies.
    auto pos = csr.find('\n') + 60;
    csr[pos] = csr[pos] == 'A' ? 'B' : 'A';
    auto o = f.enroll("tampered", csr);
    CHECK(o.what == ca::outcome::kind::failed);
    CHECK(o.error == ca::error_class::invalid_request);
    auto long_one = f.enroll("long", test::make_csr("p256", "long"), 400LL * 86400);
    CHECK(long_one.message.find("397 days") != std::string::npos);
  }

  TEST_CASE("renew needs a certificate of this CA") {
    local_fixture f;
    auto first = f.enroll("e1", test::make_csr("p256", "r.example"));
    ca::job renew{.id = "r1",
                  .op = ca::operation::renew,
                  .backend = "local",
                  .csr_pem = test::make_csr("p256", "r.example"),
                  .cert_pem = first.certificate_pem};
    auto renewed = f.run(renew);
    REQUIRE(renewed.what == ca::outcome::kind::issued);
    CHECK(renewed.serial_hex != first.serial_hex);
    renew.id = "r2";
    renew.cert_pem = test::make_self_signed("p256", "stranger").cert_pem;
    auto refused = f.run(renew);
    CHECK(refused.error == ca::error_class::rejected);
  }

  TEST_CASE("revoke writes a fresh CRL; twice is harmless; strangers are refused") {
    local_fixture f;
    auto issued = f.enroll("e1", test::make_csr("p256", "gone.example"));
    ca::job revoke{.id = "v1",
                   .op = ca::operation::revoke,
                   .backend = "local",
                   .serial_hex = issued.serial_hex,
                   .reason = "keyCompromise"};
    auto done = f.run(revoke);
    REQUIRE(done.what == ca::outcome::kind::done);
    CHECK(done.report_json.find("\"already_revoked\":false") != std::string::npos);
    auto crl = std::filesystem::path(f.dir.path()) / "local-ca/local/crl.pem";
    REQUIRE(std::filesystem::exists(crl));
    revoke.id = "v2";
    // Upper case with colons is the same serial.
    std::string colons;
    for (std::size_t i = 0; i < issued.serial_hex.size(); i += 2)
      colons += (i ? ":" : "") + issued.serial_hex.substr(i, 2);
    for (auto& c : colons) c = static_cast<char>(std::toupper(c));
    revoke.serial_hex = colons;
    auto twice = f.run(revoke);
    CHECK(twice.report_json.find("\"already_revoked\":true") != std::string::npos);
    revoke.id = "v3";
    revoke.serial_hex = "0badc0de";
    CHECK(f.run(revoke).error == ca::error_class::rejected);
    revoke.id = "v4";
    revoke.serial_hex = issued.serial_hex;
    revoke.reason = "becauseIsaidSo";
    CHECK(f.run(revoke).error == ca::error_class::invalid_request);
  }

  TEST_CASE("inventory reports the CA") {
    local_fixture f;
    ca::job inv{.id = "i1", .op = ca::operation::inventory, .backend = "local"};
    auto o = f.run(inv);
    REQUIRE(o.what == ca::outcome::kind::done);
    CHECK(o.report_json.find("CN=cbcs local CA") != std::string::npos);
    CHECK(o.report_json.find("EC prime256v1") != std::string::npos);
  }
}

TEST_SUITE("certificate_serial_hex") {
  TEST_CASE("reads the serial from the DER as OpenSSL does, and refuses what is not one") {
    local_fixture f;
    auto issued = f.enroll("serial-1", test::make_csr("p256", "serial.example"));
    REQUIRE(issued.what == ca::outcome::kind::issued);
    CHECK(crypto::certificate_serial_hex(issued.certificate_pem) == issued.serial_hex);
    // A certificate with a one-byte serial (1) and the CA's own certificate.
    auto self_signed = test::make_self_signed("p256", "one").cert_pem;
    CHECK(crypto::certificate_serial_hex(self_signed) == "01");
    auto ca_cert = crypto::parse_certificates(issued.chain_pem);
    CHECK(crypto::certificate_serial_hex(issued.chain_pem) ==
          crypto::serial_hex(ca_cert.front().get()));
    // Line breaks of another system, and a key block first: the same serial
    // (the second goes to OpenSSL's reader, which skips to the certificate).
    auto crlf = issued.certificate_pem;
    for (auto at = crlf.find('\n'); at != std::string::npos; at = crlf.find('\n', at + 2))
      crlf.insert(at, "\r");
    CHECK(crypto::pem_block_der(crlf, "CERTIFICATE").has_value());
    CHECK(crypto::certificate_serial_hex(crlf) == issued.serial_hex);
    auto key_first = test::make_self_signed("p256", "other").key_pem + issued.certificate_pem;
    CHECK_FALSE(crypto::pem_block_der(key_first, "CERTIFICATE").has_value());
    CHECK(crypto::certificate_serial_hex(key_first) == issued.serial_hex);
    CHECK_THROWS_AS(crypto::certificate_serial_hex("junk"), crypto::crypto_error);
    auto cut = issued.certificate_pem;
    cut.erase(cut.find('\n') + 1, 40);  // a damaged body
    CHECK_THROWS_AS(crypto::certificate_serial_hex(cut), crypto::crypto_error);
  }

  TEST_CASE("issued certificates are written as PEM exactly as OpenSSL writes them") {
    local_fixture f;
    for (auto type : {"p256", "rsa2048"}) {
      auto issued = f.enroll(std::string("pem-") + type, test::make_csr(type, "pem.example"));
      REQUIRE(issued.what == ca::outcome::kind::issued);
      auto certs = crypto::parse_certificates(issued.certificate_pem);
      REQUIRE(certs.size() == 1);
      crypto::bio_ptr bio{BIO_new(BIO_s_mem())};
      REQUIRE(PEM_write_bio_X509(bio.get(), certs.front().get()) == 1);
      char* data = nullptr;
      auto length = BIO_get_mem_data(bio.get(), &data);
      CHECK(issued.certificate_pem == std::string(data, static_cast<std::size_t>(length)));
    }
    CHECK(crypto::der_to_pem("X", crypto::as_bytes("")) == "-----BEGIN X-----\n-----END X-----\n");
  }
}

TEST_SUITE("local_ca") {
  TEST_CASE("on the driver harness: no exchange at all, one outcome") {
    local_fixture f;
    auto session = f.driver->start(ca::job{.id = "harness-1",
                                           .op = ca::operation::enroll,
                                           .backend = "local",
                                           .csr_pem = test::make_csr("p256", "h.example")},
                                   {});
    auto r = test::drive(*session, {}, {std::chrono::system_clock::now()});
    CHECK(r.outcome.what == ca::outcome::kind::issued);
    CHECK(r.sent.empty());
  }
}
